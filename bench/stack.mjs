// The system under benchmark, shared by bench.mjs and peer.mjs: the server
// (all-in-one, or API and worker processes) on a database and Redis prefix
// of its own, a no-op participant in its own process, and the counters of
// Postgres, Redis and each process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { admin, BASE_DATABASE_URL, BENCH_ADMIN_KEY, jsonClient, REDIS_URL, withClient, withDatabase } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TICKS = 100; // /proc clock ticks per second on Linux

export function startProcess(name, file, env, readyPattern, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const onData = (d) => {
      out = (out + d).slice(-8000);
      const m = readyPattern && readyPattern.exec(out);
      if (m) resolve(m);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out = (out + d).slice(-8000)));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
  return { name, child, ready, output: () => out };
}

export function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const cpuS = (Number(stat[11]) + Number(stat[12])) / TICKS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { cpuS, peakMiB: Math.round(kb('VmHWM') / 1024), rssMiB: Math.round(kb('VmRSS') / 1024) };
  } catch {
    return { cpuS: NaN, peakMiB: NaN, rssMiB: NaN };
  }
}

export async function stop(proc) {
  if (proc.child.exitCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export async function pgCounters(url) {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT xact_commit + xact_rollback AS xacts, pg_current_wal_insert_lsn()::text AS lsn FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { xacts: Number(rows[0].xacts), lsn: rows[0].lsn };
  });
}

export async function walBytes(url, from, to) {
  return withClient(url, async (c) => Number((await c.query(`SELECT pg_wal_lsn_diff($1, $2) AS d`, [to, from])).rows[0].d));
}

export async function redisCommands() {
  const redis = new Redis(REDIS_URL);
  try {
    return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))[1]);
  } finally {
    redis.disconnect();
  }
}

export function definition(kind, participantUrl) {
  const action = (step) => (kind === 'http' ? { type: 'http', url: `${participantUrl}/${step}` } : { type: 'queue', queue: 'bench', task: step });
  const step = (name, undo) => ({ name, action: action(name), ...(undo ? { compensation: action(undo) } : {}), retry: { maxAttempts: 1 } });
  return { name: 'bench-order', steps: [step('reserve-inventory', 'release-inventory'), step('charge-payment', 'refund-payment'), step('create-shipment')] };
}

/**
 * Starts the stack for `mode` (all | split) and participant `kind` (http | queue)
 * with the bench-order definition registered. `close()` stops every process
 * and drops the database. SERVER_NODE_ARGS adds node flags to the servers;
 * SERVER_ROOT runs the server of another checkout's build (before/after
 * comparisons: the same harness against two builds).
 */
export async function startStack(mode, kind) {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const database = `saga_bench_${suffix}`;
  const dbUrl = withDatabase(BASE_DATABASE_URL, database);
  const prefix = `bench_${suffix}`;
  await admin(`CREATE DATABASE ${database}`);
  const procs = [];
  let http = null;
  const close = async () => {
    http?.close();
    for (const p of [...procs].reverse()) await stop(p);
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  };
  try {
    let participantUrl = '';
    if (kind === 'http') {
      const p = startProcess('participant-http', path.join(root, 'bench/participant-http.mjs'), {}, /listening (\d+)/);
      procs.push(p);
      participantUrl = `http://127.0.0.1:${(await p.ready)[1]}`;
    } else {
      const p = startProcess('participant-queue', path.join(root, 'bench/participant-queue.mjs'), { REDIS_URL, REDIS_PREFIX: prefix }, /ready/);
      procs.push(p);
      await p.ready;
    }
    const port = 20000 + Math.floor(Math.random() * 20000);
    const serverEnv = (role, p) => ({
      DATABASE_URL: dbUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(p),
      HOST: '127.0.0.1',
      ROLE: role,
      MIGRATE_ON_START: 'true',
      BOOTSTRAP_ADMIN_KEY: BENCH_ADMIN_KEY,
      PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8',
    });
    const roles = mode === 'split' ? [['api', port], ['worker', port + 1]] : [['all', port]];
    // As scripts/start.sh starts it (MAX_OLD_SPACE_MB), then SERVER_NODE_ARGS.
    const nodeArgs = [`--max-old-space-size=${process.env.MAX_OLD_SPACE_MB ?? 256}`, ...(process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    for (const [role, p] of roles) {
      const main = path.join(path.resolve(process.env.SERVER_ROOT ?? root), 'dist/src/main.js');
      const server = startProcess(`server-${role}`, main, serverEnv(role, p), /listening on/, nodeArgs);
      procs.push(server);
      await server.ready;
    }
    http = jsonClient(`http://127.0.0.1:${port}`);
    const registered = await http.call('POST', '/v1/definitions', definition(kind, participantUrl));
    if (registered.status !== 201) throw new Error(`definition: ${registered.status} ${JSON.stringify(registered.body)}`);
    return { http, procs, dbUrl, close, participantUrl };
  } catch (error) {
    await close();
    throw error;
  }
}
