// What the JSON guard (src/common/json-guard.ts, ADR 9) costs next to JSON.parse,
// which every body pays anyway: a trigger-sized body, a 1 MiB string, 20,000 small objects.
//   bash bench/run.sh json-guard
import { jsonTextProblem } from '../dist/src/common/json-guard.js';

const bodies = [
  ['trigger body', JSON.stringify({ definition: 'order-fulfilment', input: { orderId: 42, amount: 30.5, items: [{ sku: 'a-1', qty: 2 }] }, correlationId: 'order-42' }), 100_000],
  ['1 MiB string', JSON.stringify({ definition: 'x', input: { blob: 'a'.repeat(1000 * 1024) } }), 50],
  ['20,000 objects', JSON.stringify({ definition: 'x', input: Array.from({ length: 20_000 }, (_, i) => ({ id: i, v: i * 1.5, s: `é${i}` })) }), 50],
];

const timeUs = (fn, rounds) => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  return Number(process.hrtime.bigint() - started) / rounds / 1000;
};

for (const [name, text, rounds] of bodies) {
  timeUs(() => jsonTextProblem(text), Math.min(rounds, 1000)); // warm up
  const guard = timeUs(() => jsonTextProblem(text), rounds);
  const parse = timeUs(() => JSON.parse(text), rounds);
  console.log(`${name.padEnd(16)} ${String(text.length).padStart(8)} chars   guard ${guard.toFixed(1).padStart(8)} µs   JSON.parse ${parse.toFixed(1).padStart(8)} µs`);
}
