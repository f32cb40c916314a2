import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** The value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics (Prometheus)', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  it('should count sagas, step attempts, retries, HTTP latency, and report the outbox and queues', async () => {
    p.on('/mt2', (_call, nth) => (nth === 1 ? { status: 503, body: {} } : { status: 422, body: { error: 'no' } }));
    await api.post('/v1/definitions', {
      name: 'metered',
      steps: [
        { name: 'mt1', action: { type: 'http', url: `${p.url}/mt1` }, compensation: { type: 'http', url: `${p.url}/mt1/undo` } },
        { name: 'mt2', action: { type: 'http', url: `${p.url}/mt2` }, retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 } },
      ],
    });
    const { settled } = sagaApi(api);
    const saga = await settled((await api.post('/v1/sagas', { definition: 'metered' })).body.id);
    expect(saga.status).toBe('COMPENSATED');

    const res = await httpClient(t.baseUrl, null).get('/metrics'); // open, like /health
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = String(res.body);
    expect(sample(text, 'saga_started_total', { definition: 'metered' })).toBe(1);
    expect(sample(text, 'saga_settled_total', { definition: 'metered', status: 'COMPENSATED' })).toBe(1);
    expect(sample(text, 'saga_step_retries_total', { definition: 'metered', step: 'mt2', phase: 'action' })).toBe(1);
    expect(sample(text, 'saga_step_attempt_duration_seconds_count', { definition: 'metered', step: 'mt1', phase: 'action', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'saga_step_attempt_duration_seconds_count', { definition: 'metered', step: 'mt2', phase: 'action', outcome: 'failed' })).toBe(2);
    expect(sample(text, 'saga_step_attempt_duration_seconds_count', { definition: 'metered', step: 'mt1', phase: 'compensation', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/sagas', status: '202' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/sagas/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(saga.id); // ids never become labels
    // Published outbox rows are deleted in small batches shortly after; the gauges follow once they are.
    expect(sample(text, 'saga_outbox_backlog')).toEqual(expect.any(Number));
    const drained = await waitFor('the outbox gauge to reach 0', async () => {
      const now = String((await httpClient(t.baseUrl, null).get('/metrics')).body);
      return sample(now, 'saga_outbox_backlog') === 0 ? now : undefined;
    });
    expect(sample(drained, 'saga_outbox_oldest_age_seconds')).toBe(0);
    expect(sample(text, 'saga_queue_jobs', { queue: 'saga-steps', state: 'waiting' })).toBe(0);
    expect(sample(text, 'saga_reconciler_redispatched_total')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
