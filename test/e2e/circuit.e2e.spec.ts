import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Participant hosts: circuit breaker and concurrency limit', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;

  beforeAll(async () => {
    t = await startTestApp({ CIRCUIT_MIN_CALLS: '3', CIRCUIT_FAILURE_RATE: '0.5', CIRCUIT_OPEN_MS: '1000', CIRCUIT_WINDOW_MS: '10000', PARTICIPANT_HOST_CONCURRENCY: '2' });
    api = httpClient(t.baseUrl);
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  it('should open the circuit after failures, hold steps without using attempts, probe, and close again', async () => {
    let broken = true;
    p.on('/cb1', () => (broken ? { status: 503, body: { error: 'down' } } : { status: 200, body: { ok: true } }));
    await api.post('/v1/definitions', {
      name: 'breaker',
      steps: [{ name: 'cb1', action: { type: 'http', url: `${p.url}/cb1` }, retry: { maxAttempts: 8, backoff: 'fixed', initialDelayMs: 20, maxDelayMs: 20 } }],
    });
    const id = (await api.post('/v1/sagas', { definition: 'breaker' })).body.id;
    // Three failures open the circuit; the 4th attempt waits instead of being made.
    const waiting = await waitFor('the step to wait on the open circuit', async () => {
      const saga = (await api.get(`/v1/sagas/${id}`)).body;
      return saga.steps[0].waitingOnCircuit ? saga : undefined;
    });
    expect(waiting.steps[0].waitingOnCircuit).toEqual({ host: new URL(p.url).host, until: expect.any(String) });
    expect(p.callsTo('/cb1')).toHaveLength(3);
    const metrics = String((await httpClient(t.baseUrl, null).get('/metrics')).body);
    expect(metrics).toContain(`saga_participant_circuit_state{host="${new URL(p.url).host}"} 1`);
    expect(metrics).toMatch(/saga_step_deferrals_total\{host="[^"]+",reason="circuit-open"\} [1-9]/);
    await sleep(500);
    expect(p.callsTo('/cb1')).toHaveLength(3); // still open: no call, no attempt used

    // The probe after 1 s fails (still broken): open again; then the host recovers and the next probe closes it.
    await waitFor('the first probe', async () => (p.callsTo('/cb1').length === 4 ? true : undefined));
    broken = false;
    const done = await sagaApi(api).settled(id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[0]).toMatchObject({ attempts: 5, waitingOnCircuit: null });
    expect(p.callsTo('/cb1').map((c) => c.body.attempt)).toEqual([1, 2, 3, 4, 5]);
  });

  /** Answers `path` after 200 ms and counts the most calls in flight at once. */
  function slowCalls(path: string): { peak: number } {
    const calls = { peak: 0 };
    let inFlight = 0;
    p.on(path, () => {
      inFlight++;
      calls.peak = Math.max(calls.peak, inFlight);
      setTimeout(() => inFlight--, 200);
      return { status: 200, body: {}, delayMs: 200 };
    });
    return calls;
  }

  it('should keep at most PARTICIPANT_HOST_CONCURRENCY calls in flight to one host', async () => {
    const calls = slowCalls('/slow');
    await api.post('/v1/definitions', { name: 'slow-host', steps: [{ name: 'sl1', action: { type: 'http', url: `${p.url}/slow` } }] });
    const ids = await Promise.all(Array.from({ length: 8 }, async () => (await api.post('/v1/sagas', { definition: 'slow-host' })).body.id as string));
    const { settled } = sagaApi(api);
    for (const id of ids) expect((await settled(id)).status).toBe('COMPLETED');
    expect(calls.peak).toBe(2);
    expect(p.callsTo('/slow')).toHaveLength(8);
  });

  it('should keep a group\'s branches carried by one worker within the host limit: the ones over it wait as jobs of their own', async () => {
    const calls = slowCalls('/branch');
    const branch = (name: string) => [{ name, action: { type: 'http', url: `${p.url}/branch` } }];
    await api.post('/v1/definitions', {
      name: 'wide-group',
      steps: [{ name: 'first', action: { type: 'http', url: `${p.url}/first` } }, { name: 'g', parallel: [branch('w1'), branch('w2'), branch('w3'), branch('w4')] }],
    });
    const id = (await api.post('/v1/sagas', { definition: 'wide-group' })).body.id as string;
    const saga = await sagaApi(api).settled(id);
    expect(saga.status).toBe('COMPLETED');
    expect(calls.peak).toBe(2);
    // Each branch was called exactly once, none lost on the way back to BullMQ.
    expect(p.callsTo('/branch').filter((c) => c.body.sagaId === id).map((c) => c.body.step).sort()).toEqual(['w1', 'w2', 'w3', 'w4']);
  });
});
