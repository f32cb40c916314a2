import { isSettled } from '../../src/engine/statuses.js';
import { Redis } from 'ioredis';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { BASE_REDIS_URL } from '../support/test-redis.js';
import { waitFor } from '../support/wait-for.js';


describe('Deadlines and recovery of lost work', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;
  let prefix: string;

  beforeAll(async () => {
    t = await startTestApp({ RECONCILE_INTERVAL_MS: '200' });
    prefix = t.redisPrefix;
    api = httpClient(t.baseUrl);
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  const step = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    action: { type: 'http', url: `${p.url}/${name}` },
    compensation: { type: 'http', url: `${p.url}/${name}/undo` },
    retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 },
    ...extra,
  });

  const settled = (id: string, timeoutMs = 15_000) =>
    waitFor(`saga ${id} to settle`, async () => {
      const res = await api.get(`/v1/sagas/${id}`);
      return isSettled(res.body.status) ? res.body : undefined;
    }, timeoutMs);

  it('should compensate with SAGA_TIMEOUT when the saga deadline passes while a step runs', async () => {
    await api.post('/v1/definitions', { name: 'deadline', timeoutMs: 300, steps: [step('dl1'), step('dl2'), step('dl3')] });
    p.on('/dl2', () => ({ status: 200, body: {}, delayMs: 900 }));
    const started = await api.post('/v1/sagas', { definition: 'deadline' });
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.error.code).toBe('SAGA_TIMEOUT');
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/dl1', '/dl2', '/dl2/undo', '/dl1/undo']);
    const types = (await api.get(`/v1/sagas/${saga.id}/events`)).body.items.map((e: { type: string }) => e.type);
    expect(types).toContain('SagaTimedOut');
  });

  it('should compensate a PAUSED saga whose deadline passes', async () => {
    await api.post('/v1/definitions', { name: 'deadline-paused', timeoutMs: 400, onStepFailure: 'pause', steps: [step('dp1'), step('dp2')] });
    p.on('/dp2', () => ({ status: 400 }));
    const started = await api.post('/v1/sagas', { definition: 'deadline-paused' });
    await waitFor('PAUSED', async () => ((await api.get(`/v1/sagas/${started.body.id}`)).body.status === 'PAUSED' ? true : undefined));
    const saga = await waitFor('COMPENSATED', async () => {
      const s = (await api.get(`/v1/sagas/${started.body.id}`)).body;
      return s.status === 'COMPENSATED' ? s : undefined;
    });
    expect(saga.error.code).toBe('SAGA_TIMEOUT');
  });

  it('should finish every saga when Redis loses all its keys mid-run', async () => {
    // fl2 fails once with 503, so every saga parks a delayed retry job in Redis: deleting
    // the keys then certainly loses work that only Postgres still knows about.
    await api.post('/v1/definitions', {
      name: 'flushed',
      steps: [step('fl1'), step('fl2', { retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 700, maxDelayMs: 700 } }), step('fl3')],
    });
    p.on('/fl2', (call) => (call.body.attempt === 1 ? { status: 503 } : { status: 200, body: {} }));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await api.post('/v1/sagas', { definition: 'flushed', input: { i } })).body.id);
    await waitFor('every saga to fail fl2 once', async () =>
      ids.every((id) => p.callsTo('/fl2').some((c) => c.body.sagaId === id)) ? true : undefined,
    );
    const redis = new Redis(BASE_REDIS_URL);
    try {
      // Only this server's keys: the shared Redis holds other tests' keys too.
      const keys = await redis.keys(`${prefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    const sagas = await Promise.all(ids.map((id) => settled(id, 30_000)));
    expect(sagas.map((s) => s.status)).toEqual(Array(10).fill('COMPLETED'));
    for (const id of ids) {
      const calls = p.calls.filter((c) => c.body?.sagaId === id);
      // Every step ran, in order; a re-dispatched step keeps its idempotency key.
      expect([...new Set(calls.map((c) => c.path))]).toEqual(['/fl1', '/fl2', '/fl3']);
      for (const path of ['/fl1', '/fl2', '/fl3']) {
        expect(new Set(calls.filter((c) => c.path === path).map((c) => c.headers['idempotency-key'])).size).toBe(1);
      }
    }
  });

  it('should call a participant slower than the job lock once per attempt while its worker lives, carried or not', async () => {
    // sl2 is carried on by sl1's job and answers after 12 s: past the 10 s job lock and many reconcile
    // intervals (200 ms here). The worker renews the lock, and the reconciler sees the carrier at work.
    await api.post('/v1/definitions', { name: 'slow-carried', steps: [step('sl1'), step('sl2', { timeoutMs: 20_000 }), step('sl3')] });
    p.on('/sl2', () => ({ status: 200, body: { slow: true }, delayMs: 12_000 }));
    const id = (await api.post('/v1/sagas', { definition: 'slow-carried' })).body.id as string;
    const saga = await settled(id, 30_000);
    expect(saga.status).toBe('COMPLETED');
    expect(p.calls.filter((c) => c.body?.sagaId === id).map((c) => c.path)).toEqual(['/sl1', '/sl2', '/sl3']);
  }, 40_000);
});
