import { isSettled } from '../../src/engine/statuses.js';
import { completeSagaTask, NonRetryableError, startSagaParticipant, type SagaParticipant, type SagaTask } from '../../src/participant/index.js';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { httpClient, HttpClient } from '../support/http-client.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { BASE_REDIS_URL } from '../support/test-redis.js';
import { waitFor } from '../support/wait-for.js';


describe('Queue steps through the participant helper (SPEC §3)', () => {
  let t: TestApp;
  let api: () => HttpClient;
  let participant: SagaParticipant;
  const seen: SagaTask[] = [];
  const behaviour: Record<string, (task: SagaTask) => unknown> = {};

  beforeAll(async () => {
    t = await startTestApp({ RECONCILE_INTERVAL_MS: '300' });
    api = () => httpClient(t.baseUrl);
    const handle = (task: SagaTask) => {
      seen.push(task);
      const key = `${task.task}`;
      return behaviour[key] ? behaviour[key](task) : { handled: key, attempt: task.attempt };
    };
    participant = startSagaParticipant({
      connection: BASE_REDIS_URL,
      prefix: t.redisPrefix,
      queue: 'payments',
      handlers: { reserve: handle, charge: handle, refund: handle, release: handle, ship: handle, slow: handle, flaky: handle, bad: handle },
    });
  });
  afterAll(async () => {
    await participant.close();
    await t.close();
  });

  const q = (task: string) => ({ type: 'queue', queue: 'payments', task });
  const retry = { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 };
  const settled = (id: string, timeoutMs = 30_000) =>
    waitFor(`saga ${id} to settle`, async () => {
      const res = await api().get(`/v1/sagas/${id}`);
      return isSettled(res.body.status) ? res.body : undefined;
    }, timeoutMs);
  /** Starts a one-step saga on a queue nobody serves; returns its id. */
  const startSilent = async (name: string, timeoutMs: number) => {
    await api().post('/v1/definitions', {
      name,
      steps: [{ name: 'silent', action: { type: 'queue', queue: `${name}-queue`, task: 'never' }, retry: { maxAttempts: 1 }, timeoutMs }],
    });
    return (await api().post('/v1/sagas', { definition: name })).body.id as string;
  };
  const tasksOf = (id: string) => seen.filter((s) => s.sagaId === id).map((s) => `${s.task}#${s.attempt}`);

  it('should run a group of queue steps at once and compensate its branches when one fails for good (SPEC §8)', async () => {
    await api().post('/v1/definitions', {
      name: 'queue-group',
      steps: [
        { name: 'gq-reserve', action: q('reserve'), compensation: q('release'), retry },
        { name: 'gq', parallel: [[{ name: 'gq-charge', action: q('charge'), compensation: q('refund'), retry }], [{ name: 'gq-ship', action: q('ship'), retry: { ...retry, maxAttempts: 1 } }]] },
      ],
    });
    const ok = (await api().post('/v1/sagas', { definition: 'queue-group', input: { n: 1 } })).body.id as string;
    const done = await settled(ok);
    expect(done.status).toBe('COMPLETED');
    expect(Object.keys(done.results).sort()).toEqual(['gq-charge', 'gq-reserve', 'gq-ship']);
    // A branch task's envelope carries the outputs before its group only.
    expect(Object.keys(seen.find((s) => s.sagaId === ok && s.task === 'ship')!.results)).toEqual(['gq-reserve']);

    behaviour.ship = (task) => {
      if (task.input && (task.input as { fail?: boolean }).fail) throw new NonRetryableError('no courier');
      return { shipped: true };
    };
    try {
      const failing = (await api().post('/v1/sagas', { definition: 'queue-group', input: { fail: true } })).body.id as string;
      const compensated = await settled(failing);
      expect(compensated).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'gq-ship' } });
      const tasks = tasksOf(failing);
      // charge ran in its branch and was refunded before the reservation was released.
      expect(tasks.filter((task) => task.startsWith('refund') || task.startsWith('release'))).toEqual(['refund#1', 'release#1']);
    } finally {
      delete behaviour.ship;
    }
  });

  it('should run queue steps with the envelope plus task, and pass outputs on', async () => {
    await api().post('/v1/definitions', {
      name: 'queue-happy',
      steps: [
        { name: 'reserve', action: q('reserve'), compensation: q('release'), retry },
        { name: 'charge', action: q('charge'), compensation: q('refund'), retry },
      ],
    });
    behaviour.reserve = () => ({ reservationId: 'r-9' });
    const saga = await settled((await api().post('/v1/sagas', { definition: 'queue-happy', input: { orderId: 7 } })).body.id);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.results).toEqual({ reserve: { reservationId: 'r-9' }, charge: { handled: 'charge', attempt: 1 } });
    const charge = seen.find((s) => s.sagaId === saga.id && s.task === 'charge')!;
    expect(charge).toEqual({
      sagaId: saga.id, run: 1, step: 'charge', phase: 'action', attempt: 1, task: 'charge',
      idempotencyKey: `${saga.id}:1:charge:action`, input: { orderId: 7 }, results: { reserve: { reservationId: 'r-9' } },
    });
  });

  it('should retry a thrown error and fail for good on a NonRetryableError, compensating through the queue', async () => {
    await api().post('/v1/definitions', {
      name: 'queue-fail',
      steps: [
        { name: 'reserve', action: q('reserve'), compensation: q('release'), retry },
        { name: 'flaky', action: q('flaky'), compensation: q('refund'), retry },
        { name: 'bad', action: q('bad'), retry },
      ],
    });
    behaviour.reserve = () => ({});
    behaviour.flaky = (task) => {
      if (task.attempt < 2) throw new Error('try again');
      return { ok: true };
    };
    behaviour.bad = () => {
      throw new NonRetryableError('card declined');
    };
    const saga = await settled((await api().post('/v1/sagas', { definition: 'queue-fail' })).body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(tasksOf(saga.id)).toEqual(['reserve#1', 'flaky#1', 'flaky#2', 'bad#1', 'refund#1', 'release#1']);
    expect(saga.steps[2]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(saga.steps[2].error.message).toBe('card declined');
  });

  it('should end an attempt that reports nothing within the step timeout, and compensate the ambiguous step', async () => {
    await api().post('/v1/definitions', {
      name: 'queue-timeout',
      steps: [
        { name: 'reserve', action: q('reserve'), compensation: q('release'), retry },
        { name: 'slow', action: q('slow'), compensation: q('refund'), retry: { ...retry, maxAttempts: 1 }, timeoutMs: 300 },
      ],
    });
    behaviour.reserve = () => ({});
    behaviour.slow = () => new Promise((resolve) => setTimeout(() => resolve({ late: true }), 1500));
    const saga = await settled((await api().post('/v1/sagas', { definition: 'queue-timeout' })).body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[1].error).toMatchObject({ timedOut: true });
    expect(tasksOf(saga.id)).toEqual(['reserve#1', 'slow#1', 'refund#1', 'release#1']);
    // The late result, when it comes, changes nothing.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api().get(`/v1/sagas/${saga.id}`)).body.status).toBe('COMPENSATED');
  });

  it('should lose no result when the server is down as the participant finishes', async () => {
    await api().post('/v1/definitions', { name: 'queue-down', steps: [{ name: 'ship', action: q('ship'), retry, timeoutMs: 60_000 }] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    behaviour.ship = async () => {
      await gate;
      return { shipped: true };
    };
    const id = (await api().post('/v1/sagas', { definition: 'queue-down' })).body.id;
    await waitFor('the participant to start', async () => (seen.some((s) => s.sagaId === id) ? true : undefined));
    await t.restart(async () => {
      release();
      // The result is reported while no server runs.
      await new Promise((r) => setTimeout(r, 300));
    });
    const saga = await settled(id);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.results).toEqual({ ship: { shipped: true } });
    expect(tasksOf(id)).toEqual(['ship#1']);
  });

  it('should forward again a queue step whose job and timer were lost from Redis', async () => {
    await api().post('/v1/definitions', { name: 'queue-lost', steps: [{ name: 'late', action: { type: 'queue', queue: 'late-queue', task: 'late' }, retry, timeoutMs: 60_000 }] });
    const id = (await api().post('/v1/sagas', { definition: 'queue-lost' })).body.id;
    const redis = new Redis(BASE_REDIS_URL);
    let late: SagaParticipant | null = null;
    try {
      // Nobody serves late-queue yet: wait until the task sits there, then lose every key.
      await waitFor('the task to be queued', async () => ((await redis.keys(`${t.redisPrefix}:late-queue:*`)).length > 0 ? true : undefined));
      const keys = await redis.keys(`${t.redisPrefix}:*`);
      await redis.del(...keys);
      late = startSagaParticipant({ connection: BASE_REDIS_URL, prefix: t.redisPrefix, queue: 'late-queue', handlers: { late: () => ({ late: true }) } });
      const saga = await settled(id);
      expect(saga.status).toBe('COMPLETED');
      expect(saga.results).toEqual({ late: { late: true } });
    } finally {
      await late?.close();
      redis.disconnect();
    }
  });

  it('should end a queue step at the deadline stored in Postgres while Redis keeps losing its timer', async () => {
    const id = await startSilent('queue-timer-lost', 2_000);
    const redis = new Redis(BASE_REDIS_URL);
    const db = new Client({ connectionString: t.database.url });
    await db.connect();
    const storedDeadline = async () => (await db.query('SELECT max(attempt_deadline) AS attempt_deadline FROM saga_step WHERE saga_id = $1', [id])).rows[0].attempt_deadline as Date | null;
    let losing = true;
    // Nobody serves its queue; every timer the server arms is deleted at once, re-forwards included.
    const loseTimers = (async () => {
      while (losing) {
        const keys = await redis.keys(`${t.redisPrefix}:saga-timers:*`);
        if (keys.length) await redis.del(...keys);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      const deadline = await waitFor('the attempt deadline to be stored', async () => (await storedDeadline()) ?? undefined);
      // Re-forwards (the reconciler runs every 300 ms and finds the timer gone) keep the first deadline.
      await new Promise((r) => setTimeout(r, 1_200));
      expect((await storedDeadline())?.getTime()).toBe(deadline.getTime());
      const saga = await settled(id);
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(saga.steps[0].error.message).toMatch(/no result within the step timeout/);
      const endedAfterDeadlineMs = Date.parse(saga.finishedAt) - deadline.getTime();
      expect(endedAfterDeadlineMs).toBeGreaterThanOrEqual(0);
      // Timer grace (1 s) plus a reconcile interval, with room for a slow machine.
      expect(endedAfterDeadlineMs).toBeLessThan(3_000);
      expect(await storedDeadline()).toBeNull();
    } finally {
      losing = false;
      await loseTimers;
      await db.end();
      redis.disconnect();
    }
  });

  it('should store a queue step\'s deadline with the transaction that dispatches it: due time + timeoutMs', async () => {
    const db = new Client({ connectionString: t.database.url });
    await db.connect();
    try {
      const storedDeadline = async (id: string) => (await db.query('SELECT max(attempt_deadline) AS attempt_deadline FROM saga_step WHERE saga_id = $1', [id])).rows[0].attempt_deadline as Date | null;
      // A first step: the insert arms it, so it is there as soon as the start answers.
      const firstId = await startSilent('queue-armed-first', 60_000);
      const first = (await api().get(`/v1/sagas/${firstId}`)).body;
      expect((await storedDeadline(firstId))?.getTime()).toBe(Date.parse(first.createdAt) + 60_000);
      // A later step: the transition that records step 1's result and dispatches step 2 arms it.
      await api().post('/v1/definitions', {
        name: 'queue-armed-next',
        steps: [
          { name: 'reserve', action: q('reserve'), retry },
          { name: 'silent', action: { type: 'queue', queue: 'queue-armed-next-queue', task: 'never' }, retry: { maxAttempts: 1 }, timeoutMs: 45_000 },
        ],
      });
      const next = (await api().post('/v1/sagas', { definition: 'queue-armed-next' })).body;
      const running = await waitFor('step 2 to be dispatched', async () => {
        const res = await api().get(`/v1/sagas/${next.id}`);
        return res.body.steps[1].startedAt ? res.body : undefined;
      });
      expect((await storedDeadline(next.id))?.getTime()).toBe(Date.parse(running.steps[1].startedAt) + 45_000);
    } finally {
      await db.end();
    }
  });

  it('should move the deadline of a queue step forwarded over 1 s late to forward time + timeoutMs', async () => {
    // An API-only instance dispatches; the worker comes 1.5 s later (a backlog in our own queue).
    const apiOnly = await startTestApp({ ROLE: 'api' });
    const db = new Client({ connectionString: apiOnly.database.url });
    await db.connect();
    let worker: TestApp | null = null;
    try {
      const client = httpClient(apiOnly.baseUrl);
      await client.post('/v1/definitions', { name: 'queue-late', steps: [{ name: 'silent', action: { type: 'queue', queue: 'queue-late-queue', task: 'never' }, retry: { maxAttempts: 1 }, timeoutMs: 60_000 }] });
      const saga = (await client.post('/v1/sagas', { definition: 'queue-late' })).body;
      const storedDeadline = async () => (await db.query('SELECT max(attempt_deadline) AS attempt_deadline FROM saga_step WHERE saga_id = $1', [saga.id])).rows[0].attempt_deadline as Date;
      const armed = (await storedDeadline()).getTime();
      expect(armed).toBe(Date.parse(saga.createdAt) + 60_000);
      await new Promise((r) => setTimeout(r, 1_500));
      const forwardedFrom = Date.now();
      worker = await startTestApp({ ROLE: 'worker' }, apiOnly);
      const redis = new Redis(BASE_REDIS_URL);
      try {
        await waitFor('the task to be forwarded', async () => ((await redis.keys(`${apiOnly.redisPrefix}:queue-late-queue:*`)).length > 0 ? true : undefined));
      } finally {
        redis.disconnect();
      }
      const moved = await waitFor('the deadline to move', async () => ((await storedDeadline()).getTime() > armed ? (await storedDeadline()).getTime() : undefined));
      expect(moved).toBeGreaterThanOrEqual(forwardedFrom + 60_000);
      expect(moved).toBeLessThanOrEqual(Date.now() + 60_000);
    } finally {
      await db.end();
      await worker?.close();
      await apiOnly.close();
    }
  });

  it('should end an attempt whose stored deadline has passed, whatever its timer in Redis says', async () => {
    const id = await startSilent('queue-deadline-db', 60_000);
    const db = new Client({ connectionString: t.database.url });
    await db.connect();
    try {
      await waitFor('the attempt deadline to be stored', async () =>
        (await db.query('SELECT 1 FROM saga_step WHERE saga_id = $1 AND attempt_deadline IS NOT NULL', [id])).rowCount ? true : undefined,
      );
      // Postgres is the truth: the timer job still waits 60 s, the stored deadline says the attempt is over.
      await db.query(`UPDATE saga_step SET attempt_deadline = now() - interval '2 seconds' WHERE saga_id = $1 AND awaiting IS NOT NULL`, [id]);
      const saga = await settled(id, 5_000);
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0].error.message).toMatch(/no result within the step timeout/);
    } finally {
      await db.end();
    }
  });

  it('should let a queue participant acknowledge now and complete later from anywhere, with the token semantics of callbacks (SPEC §10)', async () => {
    const tokens = new Map<string, string>();
    const later = startSagaParticipant({
      connection: BASE_REDIS_URL,
      prefix: t.redisPrefix,
      queue: 'webhooks',
      handlers: {
        // Acknowledged: what the handler returns is ignored; the outcome comes by callback.
        charge: (task, { completeLater }) => {
          tokens.set(`${task.sagaId}:${task.attempt}`, completeLater());
          return { ignored: true };
        },
        refund: () => ({ refunded: true }),
      },
    });
    try {
      await api().post('/v1/definitions', {
        name: 'queue-later',
        steps: [{ name: 'ql-charge', action: { type: 'queue', queue: 'webhooks', task: 'charge' }, compensation: { type: 'queue', queue: 'webhooks', task: 'refund' }, retry: { maxAttempts: 1 }, timeoutMs: 20_000 }],
      });
      const ok = (await api().post('/v1/sagas', { definition: 'queue-later' })).body.id as string;
      const token = await waitFor('the task to be acknowledged', async () => tokens.get(`${ok}:1`));
      const waiting = await waitFor('the step to wait for its callback', async () => {
        const step = (await api().get(`/v1/sagas/${ok}`)).body.steps[0];
        return step.waitingFor ? step : undefined;
      });
      expect(waiting).toMatchObject({ status: 'RUNNING', waitingFor: { type: 'callback' } });
      expect(await completeSagaTask(t.baseUrl, token, { status: 'succeeded', output: { chargeId: 'c-9' } })).toBe(202);
      expect(await settled(ok)).toMatchObject({ status: 'COMPLETED', results: { 'ql-charge': { chargeId: 'c-9' } } });
      // Same answer again: 200; another: refused (409), as for callback steps.
      expect(await completeSagaTask(t.baseUrl, token, { status: 'succeeded', output: { chargeId: 'c-9' } })).toBe(200);
      await expect(completeSagaTask(t.baseUrl, token, { status: 'failed' }, { timeoutMs: 500 })).rejects.toThrow(/409/);
      // Only the token's hash reached Redis and Postgres.
      const db = new Client({ connectionString: t.database.url });
      await db.connect();
      const redis = new Redis(BASE_REDIS_URL);
      try {
        const { rows } = await db.query(`SELECT encode(token_hash, 'hex') AS hash FROM saga_callback WHERE saga_id = $1`, [ok]);
        expect(rows).toHaveLength(1);
        const keys = await redis.keys(`${t.redisPrefix}:*`);
        for (const key of keys.filter((k) => k.includes('webhooks') || k.includes('results'))) {
          const type = await redis.type(key);
          const dump = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'string' ? String(await redis.get(key)) : '';
          expect(dump).not.toContain(token);
        }
      } finally {
        await db.end();
        redis.disconnect();
      }

      // A failure reported later fails the step for good and compensates it.
      const failed = (await api().post('/v1/sagas', { definition: 'queue-later' })).body.id as string;
      const failedToken = await waitFor('the task to be acknowledged', async () => tokens.get(`${failed}:1`));
      expect(await completeSagaTask(t.baseUrl, failedToken, { status: 'failed', error: { reason: 'declined' } })).toBe(202);
      const compensated = await settled(failed);
      expect(compensated).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'ql-charge' } });
      expect(compensated.steps[0].error).toMatchObject({ reported: { reason: 'declined' } });
    } finally {
      await later.close();
    }
  });
});
