import { Client } from 'pg';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startOwnServer, type OwnServer } from '../support/own-server.js';
import { otlpReceiver } from '../support/otlp-receiver.js';
import { waitFor } from '../support/wait-for.js';

/**
 * SPEC §10: a callback token is a credential. Canary tokens issued to real
 * attempts are looked for in everything the server writes: every log line
 * (at debug), the metrics, the exported traces, the history, the saga view
 * and list, and every table of its database.
 */
describe('Callback tokens appear nowhere but at the participant', () => {
  let own: OwnServer;
  let p: Participant;
  let otlp: Awaited<ReturnType<typeof otlpReceiver>>;

  beforeAll(async () => {
    p = await new Participant().start();
    otlp = await otlpReceiver();
    own = await startOwnServer({
      LOG_LEVEL: 'debug',
      PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  afterAll(async () => {
    await own.close();
    await otlp.close();
    await p.stop();
  });

  it('should keep the tokens out of logs, metrics, traces, history, views and stored rows', async () => {
    const api = httpClient(own.server.baseUrl);
    const anonymous = httpClient(own.server.baseUrl, null);
    p.on('/canary-pay', () => ({ status: 202 }));
    p.on('/canary-fail', () => ({ status: 202 }));
    await api.post('/v1/definitions', {
      name: 'canary',
      steps: [
        { name: 'pay', action: { type: 'http', url: `${p.url}/canary-pay`, completion: 'callback', body: { ref: '${saga.id}' } }, compensation: { type: 'http', url: `${p.url}/canary-refund` }, timeoutMs: 30_000 },
        { name: 'confirm', action: { type: 'http', url: `${p.url}/canary-fail`, completion: 'callback' }, retry: { maxAttempts: 1 }, timeoutMs: 30_000 },
      ],
    });
    const id = (await api.post('/v1/sagas', { definition: 'canary' })).body.id as string;
    const tokenFor = (path: string) => waitFor(`the call to ${path}`, async () => p.callsTo(path).find((c) => c.headers['x-saga-id'] === id)?.headers['x-callback-token'] as string | undefined);
    const waits = (index: number) =>
      waitFor('the step to wait', async () => ((await api.get(`/v1/sagas/${id}`)).body.steps[index].waitingFor ? true : undefined));

    const first = await tokenFor('/canary-pay');
    await waits(0);
    expect((await anonymous.post(`/v1/callbacks/${first}`, { status: 'succeeded', output: { paid: true } })).status).toBe(202);
    expect((await anonymous.post(`/v1/callbacks/${first}`, { status: 'succeeded', output: { paid: true } })).status).toBe(200);
    expect((await anonymous.post(`/v1/callbacks/${first}`, { status: 'failed' })).status).toBe(409);
    const second = await tokenFor('/canary-fail');
    await waits(1);
    expect((await anonymous.post(`/v1/callbacks/${second}`, { status: 'failed', error: { code: 'declined' } })).status).toBe(202);
    // Unknown and malformed tokens are logged as a route, not as themselves.
    const guessed = `${second.slice(0, 42)}${second.endsWith('A') ? 'B' : 'A'}`;
    expect((await anonymous.post(`/v1/callbacks/${guessed}`, { status: 'succeeded' })).status).toBe(404);
    expect((await anonymous.request('POST', `/v1/callbacks/${second}`, '{"status": bad json', { 'content-type': 'application/json' })).status).toBe(400);
    const saga = await sagaApi(api).settled(id);
    expect(saga.status).toBe('COMPENSATED');
    await waitFor('the spans of the run', async () => (otlp.bodies.some((b) => b.includes('canary-pay') || b.includes('"pay"')) ? true : undefined));

    const written: Record<string, string> = {
      logs: own.server.output(),
      metrics: String((await anonymous.get('/metrics')).body),
      traces: otlp.bodies.join('\n'),
      history: JSON.stringify((await api.get(`/v1/sagas/${id}/events`)).body),
      view: JSON.stringify((await api.get(`/v1/sagas/${id}`)).body),
      list: JSON.stringify((await api.get('/v1/sagas')).body),
    };
    const db = new Client({ connectionString: own.database.url });
    await db.connect();
    try {
      const tables = (await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r) => r.tablename as string);
      for (const table of tables) written[`table ${table}`] = JSON.stringify((await db.query(`SELECT * FROM "${table}"`)).rows);
      expect(tables).toContain('saga_callback');
    } finally {
      await db.end();
    }
    // The logs did see the callbacks (so the search is not vacuous), by route only.
    expect(written.logs).toContain('/v1/callbacks/{token}');
    for (const token of [first, second, guessed]) {
      for (const [where, text] of Object.entries(written)) expect({ where, leaks: text.includes(token) }).toEqual({ where, leaks: false });
    }
  });
});
