#!/usr/bin/env node
// The HTTP participant of the benchmark, in a process of its own: a
// keep-alive no-op server answering ~100 bytes. The action of
// create-shipment answers 400 when the saga's input says variant "fail".
// Prints "listening <port>" once ready.
import { createServer } from 'node:http';

const server = createServer({ keepAlive: true }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const step = req.url.slice(1);
    const fail = step === 'create-shipment' && body.input?.variant === 'fail';
    res.writeHead(fail ? 400 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(fail ? { error: 'create-shipment failed permanently' } : { step, phase: body.phase, ok: true, ref: `${step}:${body.sagaId}` }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
