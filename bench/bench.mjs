#!/usr/bin/env node
// The benchmark of issue 7, in the peers' shape (../shared/peers): the saga
// reserve-inventory → charge-payment → create-shipment with no-op steps, and
// a failing variant whose create-shipment fails so charge-payment and
// reserve-inventory are compensated, in that order.
//
//   npm run bench                  # every mode and participant kind
//   npm run bench -- --quick       # a short run (under a minute)
//   npm run bench -- --mode=split --participants=queue
//   npm run bench -- --repeat=3    # the measured phases 3 times on the same processes (memory growth)
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
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { BASE_DATABASE_URL, REDIS_URL, runInFlight, withClient, withDatabase } from './lib.mjs';
import { pgCounters, procStats, redisCommands, startStack, walBytes } from './stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Map(process.argv.slice(2).map((a) => (a.includes('=') ? a.replace(/^--/, '').split('=') : [a.replace(/^--/, ''), 'true'])));
const quick = args.has('quick');
const SIZES = quick ? { n: 300, c: 50, latN: 30, warmup: 100 } : { n: 2000, c: 50, latN: 200, warmup: 500 };
/** Runs of the measured phases on the same processes: RSS after each shows whether memory grows. */
const REPEAT = Number(args.get('repeat') ?? 1);
const MODES = (args.get('mode') ?? (quick ? 'all' : 'all,split')).split(',');
const KINDS = (args.get('participants') ?? 'http,queue').split(',');
const WAIT_MS = 30_000;
const log = (...a) => console.error('[bench]', ...a);
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

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

/**
 * The trigger endpoint's own latency: POST /v1/sagas without waitMs answers
 * once the saga and its first work are committed. One request at a time,
 * each after the previous saga settled (GET ?waitMs=, not timed), so the
 * figure is the endpoint's, not that of the sagas running behind it.
 */
async function triggerPhase(http, n) {
  await new Promise((r) => setTimeout(r, 1200));
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await http.call('POST', '/v1/sagas', { definition: 'bench-order', input: { variant: 'happy' } });
    lat.push(performance.now() - t0);
    if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${JSON.stringify(res.body)}`);
    const settled = await http.call('GET', `/v1/sagas/${res.body.id}?waitMs=${WAIT_MS}`);
    validate(settled.body, 'happy');
  }
  lat.sort((a, b) => a - b);
  const pct = (p) => round(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))], 2);
  const result = { p50_ms: pct(50), p95_ms: pct(95), p99_ms: pct(99) };
  log(`trigger (POST /v1/sagas, no wait): p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms`);
  return result;
}

async function runConfiguration(mode, kind) {
  const { http, procs, dbUrl, close } = await startStack(mode, kind);
  try {
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
      const t0 = performance.now();
      const lat = await runInFlight(n, concurrency, () => runSaga(variant), (done) => done % 500 === 0 && log(`${mode}/${kind} ${name}: ${done}/${n}`));
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
    let phases;
    const rssByRun = [];
    for (let run = 1; run <= REPEAT; run++) {
      if (REPEAT > 1) log(`${mode}/${kind}: run ${run} of ${REPEAT}`);
      phases = {
        happy: await phase('happy', SIZES.n, SIZES.c, 'happy'),
        compensating: await phase('compensating', SIZES.n, SIZES.c, 'fail'),
        sequential_happy: await phase('sequential-happy', SIZES.latN, 1, 'happy'),
        sequential_compensating: await phase('sequential-compensating', SIZES.latN, 1, 'fail'),
        trigger: await triggerPhase(http, SIZES.latN),
      };
      rssByRun.push(Object.fromEntries(procs.map((p) => [p.name, procStats(p.child.pid).rssMiB])));
      if (REPEAT > 1) log(`${mode}/${kind}: RSS after run ${run}: ${Object.entries(rssByRun[run - 1]).map(([n, v]) => `${n} ${v} MiB`).join(', ')}`);
    }
    const peakRss = Object.fromEntries(procs.map((p) => [p.name, procStats(p.child.pid).peakMiB]));
    return { mode, participants: kind, phases, peak_rss_mib: peakRss, rss_after_each_run_mib: rssByRun };
  } finally {
    await close();
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
    '| mode | participants | happy sagas/s | compensating sagas/s | steps/s (happy) | sequential p50 / p99 ms | trigger p50 ms | pg xacts/saga | WAL bytes/saga | Redis cmds/saga | server CPU ms/saga | peak RSS MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const h = r.phases.happy;
    const serverCpu = Object.entries(h.cpu_ms_per_saga).filter(([n]) => n.startsWith('server')).reduce((s, [, v]) => s + v, 0);
    const rss = Object.entries(r.peak_rss_mib).map(([n, v]) => `${n} ${v}`).join(', ');
    rows.push(
      `| ${r.mode} | ${r.participants} | ${h.sagas_per_s} | ${r.phases.compensating.sagas_per_s} | ${h.steps_per_s} | ${r.phases.sequential_happy.p50_ms} / ${r.phases.sequential_happy.p99_ms} | ${r.phases.trigger.p50_ms} | ${h.pg_xacts_per_saga} | ${h.wal_bytes_per_saga} | ${h.redis_cmds_per_saga} | ${round(serverCpu, 2)} | ${rss} |`,
    );
  }
  console.log(rows.join('\n'));
  console.log(JSON.stringify({ system: 'saga-orchestrator', environment: env, results }));
}

main().catch((error) => {
  console.error(`[bench] failed: ${error.stack ?? error}`);
  process.exit(1);
});
