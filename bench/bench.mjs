#!/usr/bin/env node
// The benchmark of issue 7, in the peers' shape (../shared/peers): the saga
// reserve-inventory → charge-payment → create-shipment with no-op steps, and
// a failing variant whose create-shipment fails so charge-payment and
// reserve-inventory are compensated, in that order.
//
//   npm run bench                  # every mode and participant kind
//   npm run bench -- --quick       # a short run (under a minute)
//   npm run bench -- --mode=split --participants=queue
//
// For each server mode (all: one all-in-one process; split: an API process
// and a worker process) and participant kind (http: a keep-alive no-op HTTP
// server in its own process; queue: a no-op participant on the exported
// helper, in its own process) it runs: warm-up, throughput with 50 sagas in
// flight (happy, then compensating), then sequential latency (happy, then
// compensating). Each saga is started with POST /v1/sagas?waitMs=, which
// answers once it settles, and every outcome is checked (steps in order;
// compensations in reverse). Progress goes to stderr; a table and one JSON
// line go to stdout. Each run gets its own database and Redis prefix.
// SERVER_NODE_ARGS adds node flags to the server processes (e.g.
// "--cpu-prof --cpu-prof-dir=.data/prof").
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { admin, BASE_DATABASE_URL, BENCH_ADMIN_KEY, jsonClient, REDIS_URL, withClient, withDatabase } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Map(process.argv.slice(2).map((a) => (a.includes('=') ? a.replace(/^--/, '').split('=') : [a.replace(/^--/, ''), 'true'])));
const quick = args.has('quick');
const SIZES = quick ? { n: 300, c: 50, latN: 30, warmup: 100 } : { n: 2000, c: 50, latN: 200, warmup: 500 };
const MODES = (args.get('mode') ?? (quick ? 'all' : 'all,split')).split(',');
const KINDS = (args.get('participants') ?? 'http,queue').split(',');
const WAIT_MS = 30_000;
const log = (...a) => console.error('[bench]', ...a);
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const TICKS = 100; // /proc clock ticks per second on Linux

// ---------- processes ----------
function startProcess(name, file, env, readyPattern, nodeArgs = []) {
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

function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const cpuS = (Number(stat[11]) + Number(stat[12])) / TICKS;
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuS, peakMiB: Math.round(peakKb / 1024) };
  } catch {
    return { cpuS: NaN, peakMiB: NaN };
  }
}

async function stop(proc) {
  if (proc.child.exitCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

// ---------- store counters ----------
async function pgCounters(url) {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT xact_commit + xact_rollback AS xacts, pg_current_wal_insert_lsn()::text AS lsn FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { xacts: Number(rows[0].xacts), lsn: rows[0].lsn };
  });
}

async function walBytes(url, from, to) {
  return withClient(url, async (c) => Number((await c.query(`SELECT pg_wal_lsn_diff($1, $2) AS d`, [to, from])).rows[0].d));
}

async function redisCommands() {
  const redis = new Redis(REDIS_URL);
  try {
    return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))[1]);
  } finally {
    redis.disconnect();
  }
}

// ---------- one configuration ----------
function definition(kind, participantUrl) {
  const action = (step) => (kind === 'http' ? { type: 'http', url: `${participantUrl}/${step}` } : { type: 'queue', queue: 'bench', task: step });
  const step = (name, undo) => ({ name, action: action(name), ...(undo ? { compensation: action(undo) } : {}), retry: { maxAttempts: 1 } });
  return { name: 'bench-order', steps: [step('reserve-inventory', 'release-inventory'), step('charge-payment', 'refund-payment'), step('create-shipment')] };
}

/** Checks a settled saga: all steps done in order, or compensated in reverse order. */
function validate(saga, variant) {
  if (variant === 'happy') {
    if (saga.status !== 'COMPLETED' || saga.steps.some((s) => s.status !== 'SUCCEEDED')) throw new Error(`saga ${saga.id}: expected COMPLETED, got ${saga.status}`);
    const starts = saga.steps.map((s) => Date.parse(s.startedAt));
    if (!(starts[0] <= starts[1] && starts[1] <= starts[2])) throw new Error(`saga ${saga.id}: steps out of order`);
  } else {
    const statuses = saga.steps.map((s) => s.status).join(',');
    if (saga.status !== 'COMPENSATED' || statuses !== 'COMPENSATED,COMPENSATED,FAILED') throw new Error(`saga ${saga.id}: expected COMPENSATED, got ${saga.status} ${statuses}`);
    if (!(Date.parse(saga.steps[1].compensation.finishedAt) <= Date.parse(saga.steps[0].compensation.startedAt))) {
      throw new Error(`saga ${saga.id}: compensations not in reverse order`);
    }
  }
}

async function runConfiguration(mode, kind) {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const database = `saga_bench_${suffix}`;
  const dbUrl = withDatabase(BASE_DATABASE_URL, database);
  const prefix = `bench_${suffix}`;
  await admin(`CREATE DATABASE ${database}`);
  const procs = [];
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
    for (const [role, p] of roles) {
      const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const server = startProcess(`server-${role}`, path.join(root, 'dist/src/main.js'), serverEnv(role, p), /listening on/, nodeArgs);
      procs.push(server);
      await server.ready;
    }
    const http = jsonClient(`http://127.0.0.1:${port}`);
    try {
      const registered = await http.call('POST', '/v1/definitions', definition(kind, participantUrl));
      if (registered.status !== 201) throw new Error(`definition: ${registered.status} ${JSON.stringify(registered.body)}`);
      const runSaga = async (variant) => {
        const t0 = performance.now();
        const res = await http.call('POST', `/v1/sagas?waitMs=${WAIT_MS}`, { definition: 'bench-order', input: { variant } });
        const ms = performance.now() - t0;
        if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${JSON.stringify(res.body)}`);
        validate(res.body, variant);
        return ms;
      };
      const phase = async (name, n, concurrency, variant) => {
        await new Promise((r) => setTimeout(r, 1200)); // idle backends flush their statistics
        const pg0 = await pgCounters(dbUrl);
        const r0 = await redisCommands();
        const cpu0 = procs.map((p) => procStats(p.child.pid).cpuS);
        const lat = [];
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: Math.min(concurrency, n) }, async () => {
            while (next < n) {
              next++;
              lat.push(await runSaga(variant));
              if (lat.length % 500 === 0) log(`${mode}/${kind} ${name}: ${lat.length}/${n}`);
            }
          }),
        );
        const wallS = (performance.now() - t0) / 1000;
        await new Promise((r) => setTimeout(r, 1200));
        const pg1 = await pgCounters(dbUrl);
        const r1 = await redisCommands();
        lat.sort((a, b) => a - b);
        const pct = (p) => round(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))], 2);
        const stepsPerSaga = variant === 'happy' ? 3 : 5;
        const result = {
          sagas_per_s: round(n / wallS),
          steps_per_s: round((n * stepsPerSaga) / wallS),
          p50_ms: pct(50),
          p95_ms: pct(95),
          p99_ms: pct(99),
          pg_xacts_per_saga: round((pg1.xacts - pg0.xacts) / n, 2),
          wal_bytes_per_saga: Math.round((await walBytes(dbUrl, pg0.lsn, pg1.lsn)) / n),
          redis_cmds_per_saga: round((r1 - r0) / n, 1),
          cpu_ms_per_saga: Object.fromEntries(procs.map((p, i) => [p.name, round(((procStats(p.child.pid).cpuS - cpu0[i]) * 1000) / n, 2)])),
        };
        log(`${mode}/${kind} ${name}: ${result.sagas_per_s} sagas/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.pg_xacts_per_saga} pg xacts/saga`);
        return result;
      };
      log(`${mode}/${kind}: processes ${procs.map((p) => `${p.name} (pid ${p.child.pid})`).join(', ')}`);
      await phase('warmup', SIZES.warmup, SIZES.c, 'happy');
      await phase('warmup-fail', Math.ceil(SIZES.warmup / 2), SIZES.c, 'fail');
      const phases = {
        happy: await phase('happy', SIZES.n, SIZES.c, 'happy'),
        compensating: await phase('compensating', SIZES.n, SIZES.c, 'fail'),
        sequential_happy: await phase('sequential-happy', SIZES.latN, 1, 'happy'),
        sequential_compensating: await phase('sequential-compensating', SIZES.latN, 1, 'fail'),
      };
      const peakRss = Object.fromEntries(procs.map((p) => [p.name, procStats(p.child.pid).peakMiB]));
      return { mode, participants: kind, phases, peak_rss_mib: peakRss };
    } finally {
      http.close();
    }
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

async function environment() {
  const pg = await withClient(withDatabase(BASE_DATABASE_URL, 'postgres'), async (c) => {
    const q = async (sql) => (await c.query(sql)).rows[0];
    return {
      version: (await q('SHOW server_version')).server_version,
      synchronous_commit: (await q('SHOW synchronous_commit')).synchronous_commit,
      fsync: (await q('SHOW fsync')).fsync,
    };
  });
  const redis = new Redis(REDIS_URL);
  let redisInfo;
  try {
    const info = await redis.info('server');
    const [, appendonly] = await redis.config('GET', 'appendonly');
    const [, appendfsync] = await redis.config('GET', 'appendfsync');
    redisInfo = { version: /redis_version:(\S+)/.exec(info)?.[1], appendonly, appendfsync };
  } finally {
    redis.disconnect();
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
  } catch {
    /* not a checkout */
  }
  return { node: process.version, cpus: os.cpus().length, commit, postgres: pg, redis: redisInfo, sizes: SIZES, auth: 'on (bootstrap key)', logs: 'info', metrics: 'on' };
}

async function main() {
  const env = await environment();
  log(`${quick ? 'quick' : 'full'} run: modes ${MODES.join(', ')}; participants ${KINDS.join(', ')}; N=${SIZES.n} C=${SIZES.c} LAT_N=${SIZES.latN}`);
  const results = [];
  for (const mode of MODES) for (const kind of KINDS) results.push(await runConfiguration(mode, kind));
  const rows = [
    '| mode | participants | happy sagas/s | compensating sagas/s | steps/s (happy) | sequential p50 / p99 ms | pg xacts/saga | WAL bytes/saga | Redis cmds/saga | server CPU ms/saga | peak RSS MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const h = r.phases.happy;
    const serverCpu = Object.entries(h.cpu_ms_per_saga).filter(([n]) => n.startsWith('server')).reduce((s, [, v]) => s + v, 0);
    const rss = Object.entries(r.peak_rss_mib).map(([n, v]) => `${n} ${v}`).join(', ');
    rows.push(
      `| ${r.mode} | ${r.participants} | ${h.sagas_per_s} | ${r.phases.compensating.sagas_per_s} | ${h.steps_per_s} | ${r.phases.sequential_happy.p50_ms} / ${r.phases.sequential_happy.p99_ms} | ${h.pg_xacts_per_saga} | ${h.wal_bytes_per_saga} | ${h.redis_cmds_per_saga} | ${round(serverCpu, 2)} | ${rss} |`,
    );
  }
  console.log(rows.join('\n'));
  console.log(JSON.stringify({ system: 'saga-orchestrator', environment: env, results }));
}

main().catch((error) => {
  console.error(`[bench] failed: ${error.stack ?? error}`);
  process.exit(1);
});
