#!/usr/bin/env node
// This server as a peer of the baseline suite (PEERS_DIR, default
// ../shared/peers next to this checkout): the suite's own harness
// (common/harness.mjs) drives the same workload and phases as for DBOS,
// Restate and the others, and prints its JSON line. The stack is that of
// bench.mjs: an all-in-one server with auth, metrics and logs as shipped,
// and the keep-alive HTTP participant in its own process.
//   PEERS_DIR=… node bench/peer.mjs      (bench/peers.sh runs it in a series)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pgCounters, redisCommands, startStack } from './stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const peersDir = path.resolve(process.env.PEERS_DIR ?? path.join(root, '../shared/peers'));
const { runBenchmark, STEPS, COMPENSATION_OF } = await import(pathToFileURL(path.join(peersDir, 'common/harness.mjs')).href);
const WAIT_MS = 30_000;

const { http, dbUrl, close } = await startStack(process.env.BENCH_MODE ?? 'all', 'http');
try {
  /** Starts one saga, answers once it settles, and reports it as the harness expects. */
  const startAndWait = async (id, variant) => {
    const res = await http.call('POST', `/v1/sagas?waitMs=${WAIT_MS}`, { definition: 'bench-order', correlationId: id, input: { variant } });
    if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${JSON.stringify(res.body)}`);
    const saga = res.body;
    if (saga.status === 'COMPLETED') return { status: 'completed', results: STEPS.map((step) => saga.results[step]) };
    if (saga.status === 'COMPENSATED') return { status: 'compensated', compensations: await compensationOrder(saga) };
    return { status: saga.status.toLowerCase(), saga };
  };
  /**
   * The compensations in the order they ran: one ran before another when it
   * finished no later than the other started. Timestamps are in ms; when two
   * fall in the same ms, the saga's history (ordered by seq) decides.
   */
  const compensationOrder = async (saga) => {
    const done = saga.steps.filter((s) => s.compensation?.status === 'SUCCEEDED');
    const at = (s, k) => Date.parse(s.compensation[k]);
    const before = (a, b) => at(a, 'finishedAt') <= at(b, 'startedAt');
    const ambiguous = done.some((a, i) => done.some((b, j) => i !== j && before(a, b) && before(b, a)));
    if (ambiguous) {
      const events = (await http.call('GET', `/v1/sagas/${saga.id}/events?limit=100`)).body.items;
      return events.filter((e) => e.type === 'CompensationSucceeded').map((e) => COMPENSATION_OF[e.step]);
    }
    return [...done].sort((a, b) => (before(a, b) ? -1 : 1)).map((s) => COMPENSATION_OF[s.name]);
  };
  const probe = async () => {
    const pg = await pgCounters(dbUrl);
    return { pg_xacts: pg.xacts, redis_cmds: await redisCommands() };
  };
  await runBenchmark({
    peer: 'saga-orchestrator',
    startAndWait,
    probe,
    meta: { mode: process.env.BENCH_MODE ?? 'all', participants: 'http', durable_in: 'Postgres (synchronous_commit on) + Redis', auth: 'on', metrics: 'on', logs: 'info' },
  });
} finally {
  await close();
}
