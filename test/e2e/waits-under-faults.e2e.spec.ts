import { Redis } from 'ioredis';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { BASE_REDIS_URL } from '../support/test-redis.js';
import { waitFor } from '../support/wait-for.js';

/** SPEC §10 under faults: callbacks racing their timeout, and waits that outlive Redis's keys. */
describe('Waiting steps under faults', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;

  beforeAll(async () => {
    t = await startTestApp({ RECONCILE_INTERVAL_MS: '500' });
    api = httpClient(t.baseUrl);
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  /** Deletes every key of the app's prefix: BullMQ's jobs and timers, as a flush would. */
  async function flushRedis(): Promise<number> {
    const redis = new Redis(BASE_REDIS_URL);
    try {
      const keys = await redis.keys(`${t.redisPrefix}:*`);
      if (keys.length) await redis.del(...keys);
      return keys.length;
    } finally {
      redis.disconnect();
    }
  }

  it('should resolve a callback that races its attempt\'s timeout to exactly one outcome', async () => {
    const timeoutMs = 400;
    await api.post('/v1/definitions', {
      name: 'race',
      steps: [
        {
          name: 'race-pay',
          action: { type: 'http', url: `${p.url}/race-pay`, completion: 'callback' },
          compensation: { type: 'http', url: `${p.url}/race-refund` },
          retry: { maxAttempts: 1 },
          timeoutMs,
        },
      ],
    });
    const answers = new Map<string, Promise<number>>();
    // Each call is answered at once, and its callback sent around the attempt's deadline (from 60 ms before to 60 ms after).
    let n = 0;
    p.on('/race-pay', (call) => {
      const offset = ((n++ % 13) - 6) * 10;
      answers.set(
        call.body.sagaId,
        new Promise((resolve) =>
          setTimeout(async () => {
            const res = await httpClient(t.baseUrl, null).post(`/v1/callbacks/${call.body.callbackToken}`, { status: 'succeeded', output: { n } });
            resolve(res.status);
          }, timeoutMs + offset),
        ),
      );
      return { status: 202 };
    });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await api.post('/v1/sagas', { definition: 'race' })).body.id);
    const { settled } = sagaApi(api);
    let won = 0;
    for (const id of ids) {
      const saga = await settled(id);
      const status = await waitFor('the callback to be sent', async () => answers.get(id)).then((a) => a);
      const step = saga.steps[0];
      if (status === 202) {
        won++;
        expect({ id, saga: saga.status, step: step.status }).toEqual({ id, saga: 'COMPLETED', step: 'SUCCEEDED' });
      } else {
        expect({ id, status }).toEqual({ id, status: 409 });
        expect({ id, saga: saga.status, step: step.status, timedOut: step.error?.timedOut }).toEqual({ id, saga: 'COMPENSATED', step: 'COMPENSATED', timedOut: true });
      }
      const history = await sagaApi(api).events(id);
      const outcomes = history.filter((e) => e.step === 'race-pay' && e.phase === 'action' && ['StepSucceeded', 'StepFailed'].includes(e.type));
      expect({ id, outcomes: outcomes.length }).toEqual({ id, outcomes: 1 });
    }
    // Both sides of the race were exercised.
    expect(won).toBeGreaterThan(0);
    expect(won).toBeLessThan(ids.length);
  }, 120_000);

  it('should lose no wait when Redis loses its keys: the signal timeout still fires on time, and a callback still lands', async () => {
    await api.post('/v1/definitions', {
      name: 'outlive',
      steps: [
        { name: 'outlive-pay', action: { type: 'http', url: `${p.url}/outlive-pay`, completion: 'callback' }, timeoutMs: 600_000 },
        { name: 'outlive-approve', action: { type: 'signal', signal: 'approve' }, timeoutMs: 3000 },
      ],
    });
    p.on('/outlive-pay', () => ({ status: 202 }));
    const id = (await api.post('/v1/sagas', { definition: 'outlive' })).body.id as string;
    const token = await waitFor('the call', async () => p.callsTo('/outlive-pay').find((c) => c.body.sagaId === id)?.body.callbackToken as string | undefined);
    await waitFor('the callback wait', async () => ((await api.get(`/v1/sagas/${id}`)).body.steps[0].waitingFor ? true : undefined));
    expect(await flushRedis()).toBeGreaterThan(0);
    expect((await httpClient(t.baseUrl, null).post(`/v1/callbacks/${token}`, { status: 'succeeded', output: { paid: true } })).status).toBe(202);

    await waitFor('the signal wait', async () => ((await api.get(`/v1/sagas/${id}`)).body.steps[1].waitingFor ? true : undefined));
    // The timer of the signal's timeout goes with the flush; Postgres holds the deadline.
    expect(await flushRedis()).toBeGreaterThan(0);
    const saga = await sagaApi(api).settled(id);
    expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'outlive-approve' } });
    const approve = saga.steps[1];
    expect(approve.error.code).toBe('SIGNAL_TIMEOUT');
    const waited = Date.parse(approve.finishedAt) - Date.parse(approve.startedAt);
    // On time: the deadline, plus at most the reconciler's grace (1 s) and interval (0.5 s).
    expect(waited).toBeGreaterThanOrEqual(2990);
    expect(waited).toBeLessThan(3000 + 2500);
  }, 60_000);
});
