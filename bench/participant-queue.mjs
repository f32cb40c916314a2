#!/usr/bin/env node
// The queue participant of the benchmark, in a process of its own: the
// exported helper (dist/src/participant) handling every task of the "bench"
// queue as a no-op; create-shipment throws a NonRetryableError when the
// saga's input says variant "fail". Prints "ready" once started.
//   REDIS_URL=… REDIS_PREFIX=… node bench/participant-queue.mjs
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startSagaParticipant, NonRetryableError } = await import(pathToFileURL(path.join(root, 'dist/src/participant/index.js')).href);

const noop = (step) => (task) => {
  if (step === 'create-shipment' && task.phase === 'action' && task.input?.variant === 'fail') throw new NonRetryableError('create-shipment failed permanently');
  return { step, phase: task.phase, ok: true, ref: `${step}:${task.sagaId}` };
};
const participant = startSagaParticipant({
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.REDIS_PREFIX ?? 'saga',
  queue: 'bench',
  concurrency: 64,
  handlers: Object.fromEntries(['reserve-inventory', 'release-inventory', 'charge-payment', 'refund-payment', 'create-shipment'].map((s) => [s, noop(s)])),
});
console.log('ready');
process.on('SIGTERM', () => participant.close().then(() => process.exit(0)));
