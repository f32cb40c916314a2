#!/usr/bin/env node
// A tiny demo participant for the README's quick start: an inventory, a
// payment and a shipping service in one HTTP server, speaking the envelope of
// SPEC §3. Every call is printed. Payments over 1000 are declined (402), so a
// saga with a large amount shows compensation.
//
//   node scripts/demo-participant.mjs        # listens on 127.0.0.1:4000 (DEMO_PORT)
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const port = Number(process.env.DEMO_PORT ?? 4000);
const short = () => randomUUID().slice(0, 8);

/** What each path answers, given the envelope: [status, body]. */
const routes = {
  '/inventory/reserve': () => [200, { reservationId: `r-${short()}` }],
  '/inventory/release': ({ results }) => [200, { released: results?.['reserve-inventory']?.reservationId ?? null }],
  '/payments/charge': ({ input }) =>
    Number(input?.amount) > 1000 ? [402, { error: 'card declined', limit: 1000 }] : [200, { chargeId: `c-${short()}`, amount: Number(input?.amount) }],
  '/payments/refund': ({ results }) => [200, { refunded: results?.['charge-payment']?.chargeId ?? null }],
  '/shipping/ship': ({ input }) => [200, { trackingId: `t-${short()}`, orderId: input?.orderId ?? null }],
  '/mail/receipt': ({ input, results }) => [200, { sentTo: input?.email ?? 'customer', trackingId: results?.ship?.trackingId ?? null }],
};

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let envelope = {};
    try {
      envelope = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      // not JSON: answered 400 below
    }
    const route = routes[req.url ?? ''];
    const [status, body] = !route ? [404, { error: `no such path: ${req.url}` }] : req.method !== 'POST' ? [405, { error: 'POST only' }] : route(envelope);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
    const who = envelope.step ? `${envelope.step} ${envelope.phase} attempt ${envelope.attempt}` : req.url;
    console.log(`${new Date().toISOString()}  ${req.method} ${req.url}  (${who}, saga ${envelope.sagaId ?? '-'})  → ${status} ${JSON.stringify(body)}`);
  });
});
server.on('error', (error) => {
  console.error(`The demo participant cannot listen on 127.0.0.1:${port} (${error.code ?? error.message}); set DEMO_PORT to a free port.`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => console.log(`demo participant listening on http://127.0.0.1:${port} (inventory, payments, shipping, mail); Ctrl-C stops it`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
