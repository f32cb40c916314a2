#!/usr/bin/env node
// Saga throughput and latency of the compiled server, on the workload the
// peer systems are measured with: reserve-inventory → charge-payment →
// create-shipment, each a no-op HTTP participant returning ~100 bytes;
// the failing variant's create-shipment answers 400, then charge-payment and
// reserve-inventory are compensated, in that order.
//
//   bash bench/run.sh                       # set-up (as scripts/test.sh), then this
//   SAGA_N=2000 SAGA_CONCURRENCY=50 node bench/saga-throughput.mjs
//
// Phases: warm-up, happy (N sagas, C in flight), compensate (N failing sagas,
// C in flight), latency (LAT_N happy sagas one after another). A saga counts
// as done when the server reports it terminal (GET /v1/sagas/{id}); the
// participant's last call tells the client when to look. Every outcome is
// validated. Progress goes to stderr, one JSON line of figures to stdout.
//
// The server runs as a child process (ROLE=all unless SERVER_ROLE says
// otherwise; SERVER_NODE_ARGS adds node flags such as --cpu-prof) against a
// database of its own, dropped at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { admin, BASE_DATABASE_URL, BENCH_ADMIN_KEY, jsonClient, REDIS_URL, withDatabase } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = (k, d) => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const N = env('SAGA_N', 2000);
const C = env('SAGA_CONCURRENCY', 50);
const LAT_N = env('SAGA_LAT_N', 200);
const WARMUP = env('SAGA_WARMUP', 1000);
const PHASE_TIMEOUT_MS = env('SAGA_PHASE_TIMEOUT_MS', 240_000);
const log = (...a) => console.error('[bench]', ...a);
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const STEPS = ['reserve-inventory', 'charge-payment', 'create-shipment'];

// ---------- participant: one keep-alive HTTP server for every step ----------
/** Resolvers waiting for a saga's last participant call, by saga id. */
const lastCall = new Map();
/** Compensations seen per saga, in order. */
const compensations = new Map();

function participant() {
  const server = createServer({ keepAlive: true }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const name = req.url.slice(1);
      const fail = name === 'create-shipment' && body.input.variant === 'fail';
      let status = 200;
      let answer;
      if (fail) {
        status = 400;
        answer = { error: 'create-shipment failed permanently' };
      } else if (body.phase === 'compensation') {
        compensations.set(body.sagaId, [...(compensations.get(body.sagaId) ?? []), name]);
        answer = { compensation: name, sagaId: body.sagaId, ok: true };
      } else {
        answer = { step: name, sagaId: body.sagaId, ok: true, ref: `${name}:${body.sagaId}`, amount: 42, sku: 'SKU-1', qty: 1 };
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
      const last = (name === 'create-shipment' && !fail) || name === 'release-inventory';
      if (last) setImmediate(() => lastCall.get(body.sagaId)?.());
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------- client of the server ----------
let http = null;
const call = (...args) => http.call(...args);

const TERMINAL = new Set(['COMPLETED', 'COMPENSATED', 'FAILED', 'PAUSED']);

async function startAndWait(variant) {
  const res = await call('POST', '/v1/sagas', { definition: 'bench-order', input: { variant } });
  if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${JSON.stringify(res.body)}`);
  const id = res.body.id;
  await new Promise((resolve) => lastCall.set(id, resolve));
  lastCall.delete(id);
  // The last call has returned; the transition that ends the saga commits right after.
  for (let i = 0; ; i++) {
    const saga = (await call('GET', `/v1/sagas/${id}`)).body;
    if (TERMINAL.has(saga.status)) return saga;
    if (i > 5000) throw new Error(`saga ${id} did not end: ${saga.status}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function validate(saga, variant) {
  if (variant === 'happy') {
    if (saga.status !== 'COMPLETED' || STEPS.some((s) => saga.results[s]?.step !== s)) throw new Error(`bad happy outcome: ${JSON.stringify(saga)}`);
  } else {
    const seen = compensations.get(saga.id);
    if (saga.status !== 'COMPENSATED' || JSON.stringify(seen) !== '["refund-payment","release-inventory"]') {
      throw new Error(`bad compensated outcome: ${saga.status} ${JSON.stringify(seen)}`);
    }
  }
  compensations.delete(saga.id);
}

function cpuSnap() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  return [f.reduce((a, b) => a + b, 0) - idle, f.reduce((a, b) => a + b, 0)];
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
let serverPid = 0;
function processCpuS(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function stats(lat) {
  const s = [...lat].sort((a, b) => a - b);
  const p = (q) => round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))], 2);
  return { p50: p(50), p95: p(95), p99: p(99), max: round(s[s.length - 1], 2) };
}

async function phase(name, n, concurrency, variant) {
  let next = 0;
  const lat = [];
  const deadline = performance.now() + PHASE_TIMEOUT_MS;
  const c0 = cpuSnap();
  const s0 = processCpuS(serverPid);
  const b0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async () => {
    while (next < n) {
      if (performance.now() > deadline) throw new Error(`phase ${name} passed ${PHASE_TIMEOUT_MS} ms after ${next}/${n} sagas`);
      next++;
      const s0 = performance.now();
      validate(await startAndWait(variant), variant);
      lat.push(performance.now() - s0);
      if (lat.length % 500 === 0) log(`${name}: ${lat.length}/${n}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  const wallMs = performance.now() - t0;
  const c1 = cpuSnap();
  const bench = process.cpuUsage(b0);
  const result = {
    sagas_per_s: round((n * 1000) / wallMs),
    latency_ms: stats(lat),
    // Whole machine (both cores = 100 %), then the server's and this process's (client + participant) CPU per saga.
    cpu_busy_pct: round((100 * (c1[0] - c0[0])) / (c1[1] - c0[1])),
    server_cpu_ms_per_saga: round(((processCpuS(serverPid) - s0) * 1000) / n, 2),
    bench_cpu_ms_per_saga: round((bench.user + bench.system) / 1000 / n, 2),
  };
  log(
    `${name}: ${n} sagas in ${round(wallMs)} ms → ${result.sagas_per_s} sagas/s, p50 ${result.latency_ms.p50} ms, ` +
      `machine CPU ${result.cpu_busy_pct}%, server ${result.server_cpu_ms_per_saga} ms/saga, bench ${result.bench_cpu_ms_per_saga} ms/saga`,
  );
  return result;
}

// ---------- set-up and run ----------
async function waitForServer(child, output) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${output()}`);
    try {
      if ((await call('GET', '/health/ready')).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server did not become ready: ${output()}`);
}

async function main() {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const database = `saga_bench_${suffix}`;
  await admin(`CREATE DATABASE ${database}`);
  const server = await participant();
  const participantUrl = `http://127.0.0.1:${server.address().port}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const baseUrl = `http://127.0.0.1:${port}`;
  http = jsonClient(baseUrl);
  let out = '';
  // SERVER_NODE_ARGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=.data/prof".
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/src/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: withDatabase(BASE_DATABASE_URL, database),
      REDIS_URL,
      REDIS_PREFIX: `bench_${suffix}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      ROLE: process.env.SERVER_ROLE ?? 'all',
      MIGRATE_ON_START: 'true',
      BOOTSTRAP_ADMIN_KEY: BENCH_ADMIN_KEY, PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serverPid = child.pid;
  child.stdout.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-4000)));
  try {
    await waitForServer(child, () => out);
    const step = (name, compensation) => ({
      name,
      action: { type: 'http', url: `${participantUrl}/${name}` },
      ...(compensation ? { compensation: { type: 'http', url: `${participantUrl}/${compensation}` } } : {}),
      retry: { maxAttempts: 1 },
    });
    const defined = await call('POST', '/v1/definitions', {
      name: 'bench-order',
      steps: [step('reserve-inventory', 'release-inventory'), step('charge-payment', 'refund-payment'), step('create-shipment')],
    });
    if (defined.status !== 201) throw new Error(`definition: ${defined.status} ${JSON.stringify(defined.body)}`);
    log(`server on ${baseUrl}, participant on ${participantUrl}; N=${N} C=${C} LAT_N=${LAT_N} WARMUP=${WARMUP}`);
    await phase('warmup', Math.ceil(WARMUP / 2), C, 'happy');
    await phase('warmup_fail', Math.floor(WARMUP / 2), C, 'fail');
    const happy = await phase('happy', N, C, 'happy');
    const compensate = await phase('compensate', N, C, 'fail');
    const latency = await phase('latency', LAT_N, 1, 'happy');
    process.stdout.write(JSON.stringify({ system: 'saga-orchestrator', config: { N, C, LAT_N, WARMUP }, happy, compensate, latency }) + '\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    server.close();
    http.close();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

main().catch((error) => {
  console.error(`[bench] failed: ${error.stack ?? error}`);
  process.exit(1);
});
