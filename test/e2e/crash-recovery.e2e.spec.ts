import { Client } from 'pg';
import { isSettled } from '../../src/engine/statuses.js';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { assertBuilt, ServerProcess, startServerProcess } from '../support/server-process.js';
import { createTestDatabase, TestDatabase } from '../support/test-database.js';
import { BASE_REDIS_URL, createTestRedisPrefix } from '../support/test-redis.js';
import { waitFor } from '../support/wait-for.js';


/**
 * The server runs as a child process and is SIGKILLed at a named crash point,
 * or while a participant holds a call open; a new process must bring every
 * saga to the right end with one idempotency key per step and phase.
 */
describe('Recovery from crashes of the server process', () => {
  let db: TestDatabase;
  const redis = createTestRedisPrefix();
  let p: Participant;
  let server: ServerProcess | null = null;

  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    REDIS_URL: BASE_REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    RECONCILE_INTERVAL_MS: '300',
    LOG_LEVEL: 'warn',
    ...extra,
  });

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    p = await new Participant().start();
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = null;
  });
  afterAll(async () => {
    await p.stop();
    await redis.cleanup();
    await db.drop();
  });

  const step = (name: string) => ({
    name,
    action: { type: 'http', url: `${p.url}/${name}` },
    compensation: { type: 'http', url: `${p.url}/${name}/undo` },
    retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 },
    timeoutMs: 30_000,
  });

  async function settled(id: string) {
    return waitFor(`saga ${id} to settle`, async () => {
      const res = await httpClient(server!.baseUrl).get(`/v1/sagas/${id}`);
      return isSettled(res.body.status) ? res.body : undefined;
    }, 60_000, 200);
  }

  function expectOneKeyPerStep(id: string) {
    const calls = p.calls.filter((c) => c.body?.sagaId === id);
    const byPath = new Map<string, Set<string>>();
    for (const c of calls) byPath.set(c.path, (byPath.get(c.path) ?? new Set()).add(String(c.headers['idempotency-key'])));
    for (const [path, keys] of byPath) expect([path, keys.size]).toEqual([path, 1]);
  }

  async function killed(s: ServerProcess) {
    return waitFor('the server to die', async () => (s.child.exitCode !== null || s.child.signalCode !== null ? true : undefined), 20_000);
  }

  it('should finish a saga when the server dies after a commit and before publishing the work', async () => {
    server = await startServerProcess(env());
    const api = httpClient(server.baseUrl);
    await api.post('/v1/definitions', { name: 'crash-commit', steps: [step('k1'), step('k2'), step('k3')] });
    // k1 fails once (503): its retry waits out a backoff, so it is published, not carried on.
    p.on('/k1', (_call, nth) => (nth === 1 ? { status: 503 } : { status: 200, body: {} }));
    await server.stop('SIGTERM');
    // 1st pass: the trigger; 2nd: the transition that schedules k1's retry.
    server = await startServerProcess(env({ CRASH_POINTS: 'after-commit-before-publish@2' }));
    const started = await httpClient(server.baseUrl).post('/v1/sagas', { definition: 'crash-commit' });
    expect(started.status).toBe(202);
    await killed(server);
    expect(server.output()).toContain('crash point after-commit-before-publish reached');
    server = await startServerProcess(env());
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPLETED');
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/k1', '/k1', '/k2', '/k3']);
    expectOneKeyPerStep(saga.id);
  });

  it('should finish a saga when the server dies after an outcome is committed, before the attempt it carries on', async () => {
    server = await startServerProcess(env());
    await httpClient(server.baseUrl).post('/v1/definitions', { name: 'crash-carry', steps: [step('c1'), step('c2'), step('c3')] });
    await server.stop('SIGTERM');
    // c1's outcome is committed with c2 recorded as carried on by the same job; then the process dies.
    server = await startServerProcess(env({ CRASH_POINTS: 'after-commit-before-carried-call@1' }));
    const started = await httpClient(server.baseUrl).post('/v1/sagas', { definition: 'crash-carry' });
    await killed(server);
    expect(server.output()).toContain('crash point after-commit-before-carried-call reached');
    expect(p.callsTo('/c2').filter((c) => c.body?.sagaId === started.body.id)).toHaveLength(0);
    server = await startServerProcess(env());
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPLETED');
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/c1', '/c2', '/c3']);
    expectOneKeyPerStep(saga.id);
  });

  it('should not make a carried call after a freeze long enough for another worker to take the saga on', async () => {
    server = await startServerProcess(env());
    await httpClient(server.baseUrl).post('/v1/definitions', { name: 'frozen-carry', steps: [step('f1'), step('f2'), { ...step('f3'), retry: { maxAttempts: 1 } }] });
    p.on('/f3', () => ({ status: 400, body: { no: true } }));
    // A's pooled connection must outlive its freeze, so that a call it made after waking would arrive.
    p.keepConnectionsFor(120_000);
    await server.stop('SIGTERM');
    // A commits f1's outcome with f2 carried on, then freezes (SIGSTOP) before calling it.
    const frozen = await startServerProcess(env({ CRASH_POINTS: 'after-commit-before-carried-call:stop', LOG_LEVEL: 'info' }));
    try {
      const id = (await httpClient(frozen.baseUrl).post('/v1/sagas', { definition: 'frozen-carry' })).body.id as string;
      await waitFor('the process to freeze', async () => (frozen.output().includes('stopping the process') ? true : undefined), 20_000);
      // B takes the job up once A's lock expires, runs f2 and f3, and compensates.
      server = await startServerProcess(env());
      const saga = await settled(id);
      expect(saga.status).toBe('COMPENSATED');
      const compensationBegan = Math.min(...p.calls.filter((c) => c.body?.sagaId === id && c.path.endsWith('/undo')).map((c) => c.at));
      // A wakes up where it froze, past its lock: it must see the saga has moved on and not call f2.
      frozen.child.kill('SIGCONT');
      await waitFor('A to wake and move on', async () => (/not called|step attempt/.test(frozen.output().split('stopping the process')[1] ?? '') ? true : undefined), 20_000).catch((e) => {
        throw new Error(`${e.message}\n${frozen.output().split('stopping the process')[1]}`);
      });
      const f2 = p.callsTo('/f2').filter((c) => c.body?.sagaId === id);
      expect(f2).toHaveLength(1);
      expect(f2.every((c) => c.at < compensationBegan)).toBe(true);
      expect(frozen.output()).toContain('attempt no longer outstanding after a pause; not called');
    } finally {
      await frozen.stop('SIGKILL');
    }
  }, 90_000);

  it('should finish a saga when the server dies during an HTTP call', async () => {
    server = await startServerProcess(env());
    await httpClient(server.baseUrl).post('/v1/definitions', { name: 'crash-http', steps: [step('h1'), step('h2'), step('h3')] });
    p.on('/h2', (_call, nth) => (nth === 1 ? 'hang' : { status: 200, body: { second: true } }));
    const started = await httpClient(server.baseUrl).post('/v1/sagas', { definition: 'crash-http' });
    await waitFor('h2 to be called', async () => (p.callsTo('/h2').length > 0 ? true : undefined));
    await server.stop('SIGKILL');
    server = await startServerProcess(env());
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPLETED');
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/h1', '/h2', '/h2', '/h3']);
    expectOneKeyPerStep(saga.id);
  });

  it('should finish compensating when the server dies during a compensation call', async () => {
    server = await startServerProcess(env());
    await httpClient(server.baseUrl).post('/v1/definitions', { name: 'crash-undo', steps: [step('x1'), step('x2'), step('x3')] });
    p.on('/x3', () => ({ status: 400, body: { no: true } }));
    p.on('/x2/undo', (_call, nth) => (nth === 1 ? 'hang' : { status: 200, body: {} }));
    const started = await httpClient(server.baseUrl).post('/v1/sagas', { definition: 'crash-undo' });
    await waitFor('x2/undo to be called', async () => (p.callsTo('/x2/undo').length > 0 ? true : undefined));
    await server.stop('SIGKILL');
    server = await startServerProcess(env());
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/x1', '/x2', '/x3', '/x2/undo', '/x2/undo', '/x1/undo']);
    expectOneKeyPerStep(saga.id);
  });

  describe('callbacks and signals (SPEC §10)', () => {
    /** A saga whose one step is a callback step: started on a process without crash points, waiting for its callback. */
    async function waitingForCallback(name: string): Promise<{ id: string; token: string }> {
      server = await startServerProcess(env());
      const api = httpClient(server.baseUrl);
      p.on(`/${name}`, () => ({ status: 202 }));
      await api.post('/v1/definitions', { name, steps: [{ ...step(name), action: { type: 'http', url: `${p.url}/${name}`, completion: 'callback' } }, step(`${name}-after`)] });
      const id = (await api.post('/v1/sagas', { definition: name })).body.id as string;
      const token = await waitFor('the callback call', async () => p.callsTo(`/${name}`).find((c) => c.body.sagaId === id)?.body.callbackToken as string | undefined);
      await waitFor('the step to wait', async () => ((await api.get(`/v1/sagas/${id}`)).body.steps[0].waitingFor ? true : undefined));
      return { id, token };
    }
    const post = (token: string, body: unknown) => httpClient(server!.baseUrl, null).post(`/v1/callbacks/${token}`, body).catch((error: Error) => ({ status: 0, error }));

    it('should apply a callback the server recorded and then died on, without the caller trying again', async () => {
      const { id, token } = await waitingForCallback('crash-cb-recorded');
      await server!.stop('SIGTERM');
      server = await startServerProcess(env({ CRASH_POINTS: 'after-callback-recorded' }));
      expect((await post(token, { status: 'succeeded', output: { paid: 1 } })).status).toBe(0);
      await killed(server);
      server = await startServerProcess(env());
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPLETED', results: { 'crash-cb-recorded': { paid: 1 } } });
      // The caller's retry now finds it applied: the same result, 200.
      expect((await post(token, { status: 'succeeded', output: { paid: 1 } })).status).toBe(200);
    });

    it('should answer a retry with 200 when the server died after applying a callback and before answering it', async () => {
      const { id, token } = await waitingForCallback('crash-cb-applied');
      await server!.stop('SIGTERM');
      server = await startServerProcess(env({ CRASH_POINTS: 'after-callback-applied' }));
      expect((await post(token, { status: 'succeeded', output: { paid: 2 } })).status).toBe(0);
      await killed(server);
      server = await startServerProcess(env());
      expect((await post(token, { status: 'succeeded', output: { paid: 2 } })).status).toBe(200);
      expect((await post(token, { status: 'succeeded', output: { paid: 3 } })).status).toBe(409);
      expect(await settled(id)).toMatchObject({ status: 'COMPLETED', results: { 'crash-cb-applied': { paid: 2 } } });
    });

    it('should keep a callback that got 202 when the server is killed right after', async () => {
      const { id, token } = await waitingForCallback('crash-cb-202');
      expect((await post(token, { status: 'succeeded', output: { paid: 4 } })).status).toBe(202);
      await server!.stop('SIGKILL');
      server = await startServerProcess(env());
      expect(await settled(id)).toMatchObject({ status: 'COMPLETED', results: { 'crash-cb-202': { paid: 4 } } });
    });

    it.each([
      ['stored and then died on', 'after-signal-stored', 'crash-signal-stored'],
      ['took for its waiting step and died before applying', 'after-signal-taken', 'crash-signal-taken'],
    ])('should deliver a signal the server %s', async (_what, point, name) => {
      server = await startServerProcess(env({ CRASH_POINTS: point }));
      const api = httpClient(server.baseUrl);
      await api.post('/v1/definitions', { name, steps: [{ name: 'approve', action: { type: 'signal', signal: 'ok' }, timeoutMs: 60_000 }, step(`${name}-after`)] });
      const id = (await api.post('/v1/sagas', { definition: name })).body.id as string;
      // Marked waiting: the API delivers the signal itself, and dies where the crash point says.
      await waitFor('the step to wait', async () => {
        const client = new Client({ connectionString: db.url });
        await client.connect();
        try {
          return (await client.query(`SELECT waiting FROM saga_step WHERE saga_id = $1 AND idx = 0`, [id])).rows[0]?.waiting === 'signal' || undefined;
        } finally {
          await client.end();
        }
      });
      expect((await api.post(`/v1/sagas/${id}/signals/ok`, { status: 'succeeded', output: { by: 'ops' } }).catch(() => ({ status: 0 }))).status).toBe(0);
      await killed(server);
      expect(server.output()).toContain(`crash point ${point} reached`);
      // No retry by the sender: the reconciler delivers it.
      server = await startServerProcess(env());
      expect(await settled(id)).toMatchObject({ status: 'COMPLETED', results: { approve: { by: 'ops' } } });
    });
  });
});
