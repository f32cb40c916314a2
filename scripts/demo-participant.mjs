#!/usr/bin/env node
// A tiny demo participant for the README's quick start: an inventory, a
// payment and a shipping service in one HTTP server, speaking the envelope of
// SPEC §3. Every call is printed. Payments over 1000 are declined (402), so a
// saga with a large amount shows compensation. /payments/authorize is a
// payment provider that confirms later (SPEC §10): it answers 202 and prints
// the callback to send; /mail/send is an API with its own JSON shape (SPEC §11).
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
  // Accepted for later: the provider confirms by callback (printed below, for you to send).
  '/payments/authorize': (envelope) => [202, { accepted: true, willConfirm: typeof envelope.callbackToken === 'string' }],
};

/** Paths under a prefix with their own request shape (not the envelope): /mail/send/{orderId} takes { to, subject, tracking }. */
const prefixed = {
  '/mail/send/': (body, rest) =>
    typeof body?.to === 'string' && typeof body?.subject === 'string'
      ? [200, { messageId: `m-${short()}`, to: body.to, order: decodeURIComponent(rest) }]
      : [400, { error: 'expected { to, subject, tracking }' }],
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
    const url = req.url ?? '';
    const prefix = Object.keys(prefixed).find((p) => url.startsWith(p));
    const route = prefix ? (body) => prefixed[prefix](body, url.slice(prefix.length)) : routes[url];
    const [status, body] = !route ? [404, { error: `no such path: ${url}` }] : req.method !== 'POST' ? [405, { error: 'POST only' }] : route(envelope);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
    const sagaId = envelope.sagaId ?? req.headers['x-saga-id'] ?? '-';
    const who = envelope.step ? `${envelope.step} ${envelope.phase} attempt ${envelope.attempt}` : url;
    console.log(`${new Date().toISOString()}  ${req.method} ${url}  (${who}, saga ${sagaId})  → ${status} ${JSON.stringify(body)}`);
    if (typeof envelope.callbackToken === 'string' && status === 202) {
      // A real provider would keep the token and call back when the payment settles; the demo prints the call for you.
      const amount = Number(envelope.input?.amount ?? 0);
      console.log(
        `    to confirm: curl -s localhost:3000/v1/callbacks/${envelope.callbackToken} -H 'content-type: application/json' ` +
          `-d '{ "status": "succeeded", "output": { "chargeId": "c-${short()}", "amount": ${amount} } }'`,
      );
    }
  });
});
server.on('error', (error) => {
  console.error(`The demo participant cannot listen on 127.0.0.1:${port} (${error.code ?? error.message}); set DEMO_PORT to a free port.`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => console.log(`demo participant listening on http://127.0.0.1:${port} (inventory, payments, shipping, mail); Ctrl-C stops it`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
