#!/usr/bin/env node
// Our ratios to the peers of one series folder (bench/peers.sh): medians
// per system, then throughput against the best durable peer and latency
// against DBOS, as issue targets are stated.
//   node bench/ratios.mjs .data/peers/<timestamp>
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const runs = {};
for (const f of readdirSync(dir).filter((f) => /\.r\d+\.json$/.test(f))) {
  const line = readFileSync(path.join(dir, f), 'utf8').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (line) (runs[f.replace(/\.r\d+\.json$/, '')] ??= []).push(JSON.parse(line));
}
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const m = (key, get) => median((runs[key] ?? []).map(get));
const ours = 'saga-orchestrator';
if (!runs[ours]) {
  console.log('\nNo saga-orchestrator run in this series.');
  process.exit(0);
}
const durable = Object.keys(runs).filter((k) => k !== ours && /dbos|restate/.test(k));
const best = (get) => durable.reduce((b, k) => (m(k, get) > (b ? m(b, get) : -Infinity) ? k : b), null);
const happy = (r) => r.happy.sagas_per_s;
const comp = (r) => r.compensate.sagas_per_s;
const p50 = (r) => r.latency_ms.p50;
const p99 = (r) => r.latency_ms.p99;
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const lines = ['', '## saga-orchestrator against the peers (medians of this series)', '', '| measure | saga-orchestrator | reference | ratio | target |', '| --- | --- | --- | --- | --- |'];
const bh = best(happy);
const bc = best(comp);
if (bh) lines.push(`| happy sagas/s | ${f(m(ours, happy), 0)} | ${bh} ${f(m(bh, happy), 0)} | ${f(m(ours, happy) / m(bh, happy))}× | ≥ 2× |`);
if (bc) lines.push(`| compensating sagas/s | ${f(m(ours, comp), 0)} | ${bc} ${f(m(bc, comp), 0)} | ${f(m(ours, comp) / m(bc, comp))}× | ≥ 2× |`);
if (runs.dbos) {
  lines.push(`| sequential p50 ms | ${f(m(ours, p50), 1)} | dbos ${f(m('dbos', p50), 1)} | ${f(m(ours, p50) / m('dbos', p50))}× | ≤ 0.8× |`);
  lines.push(`| sequential p99 ms | ${f(m(ours, p99), 1)} | dbos ${f(m('dbos', p99), 1)} | ${f(m(ours, p99) / m('dbos', p99))}× | ≤ 1× |`);
}
console.log(lines.join('\n'));
