#!/usr/bin/env node
// Parallel groups against plain steps (issue 17): the same five no-op steps
// run as a straight line (a → b1 → b2 → b3 → z) and with the middle three
// as a 3-branch group (a → [b1 | b2 | b3] → z), on the same processes,
// alternating the two shapes round by round so machine noise hits both. Per
// shape: throughput with 50 sagas in flight (sagas/s and steps/s), and
// sequential latency (one saga at a time), with Postgres transactions and
// Redis commands per saga. "Not slower per step" means the group's steps/s
// at 50 in flight is at least the line's, within the noise.
//
//   bash bench/run.sh groups                  # 3 rounds of 1,500 sagas per shape, HTTP participant, all-in-one
//   bash bench/run.sh groups --rounds=2 --n=500 --mode=split --participants=queue
import { performance } from 'node:perf_hooks';
import { runInFlight } from './lib.mjs';
import { pgCounters, redisCommands, startStack } from './stack.mjs';

const args = new Map(process.argv.slice(2).map((a) => (a.includes('=') ? a.replace(/^--/, '').split('=') : [a.replace(/^--/, ''), 'true'])));
const ROUNDS = Number(args.get('rounds') ?? 3);
const N = Number(args.get('n') ?? 1500);
const LAT_N = Number(args.get('latency-n') ?? 100);
const C = 50;
const MODE = args.get('mode') ?? 'all';
const KIND = args.get('participants') ?? 'http';
const log = (...a) => console.error('[groups]', ...a);
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { http, dbUrl, close, participantUrl } = await startStack(MODE, KIND);
try {
  const action = (name) => (KIND === 'http' ? { type: 'http', url: `${participantUrl}/${name}` } : { type: 'queue', queue: 'bench', task: name });
  const step = (name) => ({ name, action: action(name), compensation: action(`undo-${name}`), retry: { maxAttempts: 1 } });
  const shapes = {
    line: { name: 'bench-line5', steps: [step('a'), step('b1'), step('b2'), step('b3'), step('z')] },
    group: { name: 'bench-group3', steps: [step('a'), { name: 'g', parallel: [[step('b1')], [step('b2')], [step('b3')]] }, step('z')] },
  };
  for (const body of Object.values(shapes)) {
    const res = await http.call('POST', '/v1/definitions', body);
    if (res.status !== 201) throw new Error(`definition ${body.name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const runSaga = async (definition) => {
    const t0 = performance.now();
    const res = await http.call('POST', '/v1/sagas?waitMs=30000', { definition, input: { variant: 'happy' } });
    if (res.status !== 202 || res.body.status !== 'COMPLETED') throw new Error(`${definition}: ${res.status} ${res.body.status}`);
    return performance.now() - t0;
  };
  const phase = async (definition, n, concurrency) => {
    await new Promise((r) => setTimeout(r, 1200));
    const pg0 = await pgCounters(dbUrl);
    const r0 = await redisCommands();
    const t0 = performance.now();
    const lat = await runInFlight(n, concurrency, () => runSaga(definition));
    const wallS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1200));
    const pg1 = await pgCounters(dbUrl);
    const r1 = await redisCommands();
    lat.sort((a, b) => a - b);
    return {
      sagasPerS: n / wallS,
      p50: lat[Math.floor(lat.length / 2)],
      p99: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))],
      pgXacts: (pg1.xacts - pg0.xacts) / n,
      redisCmds: (r1 - r0) / n,
    };
  };
  log(`${MODE}/${KIND}: warming up`);
  for (const shape of Object.values(shapes)) await phase(shape.name, 300, C);
  const results = { line: [], group: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    // Alternate which shape goes first, so neither always runs on a warmer (or busier) machine.
    const order = r % 2 === 1 ? ['line', 'group'] : ['group', 'line'];
    for (const key of order) {
      const throughput = await phase(shapes[key].name, N, C);
      const sequential = await phase(shapes[key].name, LAT_N, 1);
      results[key].push({ throughput, sequential });
      log(`round ${r} ${key}: ${round(throughput.sagasPerS)} sagas/s (${round(throughput.sagasPerS * 5)} steps/s), sequential p50 ${round(sequential.p50, 2)} ms, ${round(throughput.pgXacts, 2)} pg xacts and ${round(throughput.redisCmds)} Redis cmds per saga`);
    }
  }
  const summary = (key) => ({
    sagasPerS: round(median(results[key].map((x) => x.throughput.sagasPerS))),
    stepsPerS: round(median(results[key].map((x) => x.throughput.sagasPerS)) * 5),
    p50: round(median(results[key].map((x) => x.throughput.p50)), 2),
    seqP50: round(median(results[key].map((x) => x.sequential.p50)), 2),
    seqP99: round(median(results[key].map((x) => x.sequential.p99)), 2),
    pgXacts: round(median(results[key].map((x) => x.throughput.pgXacts)), 2),
    redisCmds: round(median(results[key].map((x) => x.throughput.redisCmds))),
  });
  const line = summary('line');
  const group = summary('group');
  console.log(`\n${MODE}/${KIND}, ${ROUNDS} rounds (medians), ${N} sagas at ${C} in flight, ${LAT_N} sequential\n`);
  console.log('| shape | sagas/s | steps/s | p50 ms at 50 in flight | sequential p50 / p99 ms | pg xacts/saga | Redis cmds/saga |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, s] of [['5 plain steps', line], ['1 + group of 3 + 1', group]]) {
    console.log(`| ${name} | ${s.sagasPerS} | ${s.stepsPerS} | ${s.p50} | ${s.seqP50} / ${s.seqP99} | ${s.pgXacts} | ${s.redisCmds} |`);
  }
  console.log(`\ngroup / line: throughput ${round(group.sagasPerS / line.sagasPerS, 2)}x, sequential p50 ${round(group.seqP50 / line.seqP50, 2)}x`);
  console.log(JSON.stringify({ mode: MODE, participants: KIND, rounds: ROUNDS, line, group }));
} finally {
  await close();
}
