import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi, type SagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';


describe('Saga execution (SPEC §2, §3)', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;
  let register: SagaApi['register'];
  let settled: SagaApi['settled'];

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    ({ register, settled } = sagaApi(api));
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  function step(name: string, extra: Record<string, unknown> = {}) {
    return {
      name,
      action: { type: 'http', url: `${p.url}/${name}`, headers: { 'x-team': 'shop' } },
      compensation: { type: 'http', url: `${p.url}/${name}/undo` },
      retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 },
      timeoutMs: 2000,
      ...extra,
    };
  }



  it('should run every step in order with the envelope and headers of SPEC §3, and complete', async () => {
    await register('happy', [step('reserve'), step('charge'), step('ship')]);
    p.on('/reserve', () => ({ status: 200, body: { reservationId: 'r-1' } }));
    const started = await api.post('/v1/sagas', { definition: 'happy', input: { orderId: 42 }, correlationId: 'order-42' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'RUNNING', definition: 'happy', version: 1, run: 1, correlationId: 'order-42' });
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.results).toEqual({ reserve: { reservationId: 'r-1' }, charge: { ok: true, path: '/charge' }, ship: { ok: true, path: '/ship' } });
    expect(saga.steps.map((s: { status: string; attempts: number }) => [s.status, s.attempts])).toEqual([
      ['SUCCEEDED', 1], ['SUCCEEDED', 1], ['SUCCEEDED', 1],
    ]);
    const calls = p.calls.filter((c) => c.body?.sagaId === saga.id);
    expect(calls.map((c) => c.path)).toEqual(['/reserve', '/charge', '/ship']);
    const charge = calls[1];
    expect(charge.method).toBe('POST');
    expect(charge.headers['content-type']).toBe('application/json');
    expect(charge.headers['idempotency-key']).toBe(`${saga.id}:1:charge:action`);
    expect(charge.headers['x-saga-id']).toBe(saga.id);
    expect(charge.headers['x-team']).toBe('shop');
    expect(charge.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(charge.body).toEqual({
      sagaId: saga.id, run: 1, step: 'charge', phase: 'action', attempt: 1,
      idempotencyKey: `${saga.id}:1:charge:action`, input: { orderId: 42 }, results: { reserve: { reservationId: 'r-1' } },
    });
    expect(saga.finishedAt).not.toBeNull();
  });

  it('should compensate completed steps in reverse order when a step fails for good', async () => {
    await register('unwind', [step('u1'), step('u2', { compensation: undefined }), step('u3'), step('u4')]);
    p.on('/u4', () => ({ status: 422, body: { reason: 'no stock' } }));
    const started = await api.post('/v1/sagas', { definition: 'unwind' });
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'u4' });
    const paths = p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path);
    expect(paths).toEqual(['/u1', '/u2', '/u3', '/u4', '/u3/undo', '/u1/undo']);
    expect(saga.steps.map((s: any) => [s.status, s.compensation?.status ?? null])).toEqual([
      ['COMPENSATED', 'SUCCEEDED'], ['SUCCEEDED', null], ['COMPENSATED', 'SUCCEEDED'], ['FAILED', null],
    ]);
    expect(saga.steps[3].error).toMatchObject({ status: 422, body: { reason: 'no stock' }, retryable: false });
    const undo = p.callsTo('/u3/undo').find((c) => c.body.sagaId === saga.id)!;
    expect(undo.headers['idempotency-key']).toBe(`${saga.id}:1:u3:compensation`);
    expect(undo.body.phase).toBe('compensation');
  });

  it('should retry retryable failures with the same idempotency key, then succeed', async () => {
    await register('flaky', [step('flaky-a')]);
    p.on('/flaky-a', (_c, nth) => (nth < 3 ? { status: 503, body: { busy: true } } : { status: 200, body: { done: nth } }));
    const started = await api.post('/v1/sagas', { definition: 'flaky' });
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.steps[0].attempts).toBe(3);
    const calls = p.callsTo('/flaky-a');
    expect(calls.map((c) => c.body.attempt)).toEqual([1, 2, 3]);
    expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1);
    const events = (await api.get(`/v1/sagas/${saga.id}/events`)).body.items;
    expect(events.map((e: any) => e.type)).toEqual([
      'SagaStarted', 'StepStarted', 'StepFailed', 'StepRetryScheduled', 'StepFailed', 'StepRetryScheduled', 'StepSucceeded', 'SagaCompleted',
    ]);
    expect(events.map((e: any) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('should compensate a step whose final attempt timed out (unknown outcome) and the ones before it', async () => {
    await register('ambiguous', [step('am1'), step('am2', { timeoutMs: 150, retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 } })]);
    p.on('/am2', () => 'hang');
    const started = await api.post('/v1/sagas', { definition: 'ambiguous' });
    const saga = await settled(started.body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[1]).toMatchObject({ status: 'COMPENSATED', attempts: 2 });
    expect(saga.steps[1].error).toMatchObject({ timedOut: true, retryable: true });
    const paths = p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path);
    expect(paths).toEqual(['/am1', '/am2', '/am2', '/am2/undo', '/am1/undo']);
  });

  it('should end FAILED when a compensation fails for good, keeping why compensation began', async () => {
    await register('undo-fails', [step('uf1'), step('uf2'), step('uf3')]);
    p.on('/uf3', () => ({ status: 400 }));
    p.on('/uf2/undo', () => ({ status: 500, body: { down: true } }));
    const saga = await settled((await api.post('/v1/sagas', { definition: 'undo-fails' })).body.id);
    expect(saga.status).toBe('FAILED');
    expect(saga.error).toMatchObject({ code: 'COMPENSATION_FAILED', step: 'uf2', cause: { code: 'STEP_FAILED', step: 'uf3' } });
    expect(saga.steps[1]).toMatchObject({ status: 'COMPENSATION_FAILED', compensation: { status: 'FAILED', attempts: 3 } });
    expect(saga.steps[1].compensation.error).toMatchObject({ status: 500, body: { down: true } });
    // uf1 is not compensated: the saga stops at the first compensation that fails for good.
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/uf1', '/uf2', '/uf3', '/uf2/undo', '/uf2/undo', '/uf2/undo']);
  });

  it('should treat a 2xx body that is not JSON as a permanent failure with a clear error', async () => {
    await register('not-json', [step('nj1'), step('nj2')]);
    p.on('/nj2', () => ({ status: 200, raw: '<html>oops</html>' }));
    const saga = await settled((await api.post('/v1/sagas', { definition: 'not-json' })).body.id);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[1].attempts).toBe(1);
    expect(saga.steps[1].error.message).toMatch(/not JSON/);
    expect(saga.steps[1].error.body).toBe('<html>oops</html>');
  });

  it('should leave the saga PAUSED without compensating when onStepFailure is pause', async () => {
    await register('pausing', [step('pa1'), step('pa2')], { onStepFailure: 'pause' });
    p.on('/pa2', () => ({ status: 400, body: { bad: true } }));
    const saga = await settled((await api.post('/v1/sagas', { definition: 'pausing' })).body.id);
    expect(saga.status).toBe('PAUSED');
    expect(saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'pa2' });
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/pa1', '/pa2']);
  });

  it('should compensate a PAUSED saga on cancel, with error.code CANCELLED', async () => {
    await register('pause-cancel', [step('pc1'), step('pc2')], { onStepFailure: 'pause' });
    p.on('/pc2', () => ({ status: 400 }));
    const saga = await settled((await api.post('/v1/sagas', { definition: 'pause-cancel' })).body.id);
    const cancelled = await api.post(`/v1/sagas/${saga.id}/cancel`);
    expect(cancelled.status).toBe(202);
    const done = await settled(saga.id);
    expect(done.status).toBe('COMPENSATED');
    expect(done.error.code).toBe('CANCELLED');
    expect(p.calls.filter((c) => c.body?.sagaId === saga.id).map((c) => c.path)).toEqual(['/pc1', '/pc2', '/pc1/undo']);
  });

  it('should cancel a RUNNING saga: wait for the step in flight, then compensate it and the ones before', async () => {
    await register('cancel-running', [step('cr1'), step('cr2'), step('cr3')]);
    p.on('/cr2', () => ({ status: 200, body: { slow: true }, delayMs: 400 }));
    const started = await api.post('/v1/sagas', { definition: 'cancel-running' });
    await waitFor('cr2 to be called', async () => (p.callsTo('/cr2').some((c) => c.body.sagaId === started.body.id) ? true : undefined));
    const cancelled = await api.post(`/v1/sagas/${started.body.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('COMPENSATING');
    const done = await settled(started.body.id);
    expect(done.status).toBe('COMPENSATED');
    expect(done.error.code).toBe('CANCELLED');
    const calls = p.calls.filter((c) => c.body?.sagaId === done.id);
    expect(calls.map((c) => c.path)).toEqual(['/cr1', '/cr2', '/cr2/undo', '/cr1/undo']);
    // No compensation started before the action it undoes had answered.
    expect(p.callsTo('/cr2/undo').find((c) => c.body.sagaId === done.id)!.at).toBeGreaterThanOrEqual(calls[1].at + 350);
  });

  it('should answer cancel of a settled saga with 409 and of an unknown one with 404', async () => {
    await register('cancel-done', [step('cd1')]);
    const saga = await settled((await api.post('/v1/sagas', { definition: 'cancel-done' })).body.id);
    const res = await api.post(`/v1/sagas/${saga.id}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('SAGA_STATE_CONFLICT');
    expect((await api.post('/v1/sagas/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
    expect((await api.get('/v1/sagas/not-a-uuid')).body.code).toBe('SAGA_NOT_FOUND');
  });

  describe('triggering', () => {
    beforeAll(async () => {
      await register('trigger', [step('t1')]);
    });

    it('should return the same saga for the same Idempotency-Key and body, also under 10 concurrent requests', async () => {
      const body = { definition: 'trigger', input: { n: 1 } };
      const results = await Promise.all(Array.from({ length: 10 }, () => api.post('/v1/sagas', body, { 'idempotency-key': 'key-concurrent' })));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(202));
      const ids = new Set(results.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      await settled(id);
      expect(p.callsTo('/t1').filter((c) => c.body.sagaId === id)).toHaveLength(1);
      const again = await api.post('/v1/sagas', { input: { n: 1 }, definition: 'trigger' }, { 'idempotency-key': 'key-concurrent' });
      expect(again.body.id).toBe(id);
      expect(again.body.status).toBe('COMPLETED');
    });

    it('should answer the same Idempotency-Key with a different body with 422', async () => {
      await api.post('/v1/sagas', { definition: 'trigger', input: { n: 1 } }, { 'idempotency-key': 'key-reused' });
      const res = await api.post('/v1/sagas', { definition: 'trigger', input: { n: 2 } }, { 'idempotency-key': 'key-reused' });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('should pin a saga to its version: a new version never changes a running saga', async () => {
      await register('pinned', [step('pin1'), step('pin2')]);
      p.on('/pin1', () => ({ status: 200, body: {}, delayMs: 300 }));
      const started = await api.post('/v1/sagas', { definition: 'pinned' });
      await register('pinned', [step('pin1'), step('pin-new')]);
      const saga = await settled(started.body.id);
      expect(saga.version).toBe(1);
      expect(saga.steps.map((s: { name: string }) => s.name)).toEqual(['pin1', 'pin2']);
      expect(p.callsTo('/pin-new')).toHaveLength(0);
      const v2 = await api.post('/v1/sagas', { definition: 'pinned' });
      expect(v2.body.version).toBe(2);
      const v1 = await api.post('/v1/sagas', { definition: 'pinned', version: 1 });
      expect(v1.body.version).toBe(1);
    });

    it.each([
      ['an unknown definition', { definition: 'no-such' }, 404, 'DEFINITION_NOT_FOUND'],
      ['an unknown version', { definition: 'trigger', version: 9 }, 404, 'DEFINITION_VERSION_NOT_FOUND'],
      ['a bad definition name', { definition: 'Bad Name' }, 400, 'VALIDATION_FAILED'],
      ['a version that is not an integer', { definition: 'trigger', version: '1' }, 400, 'VALIDATION_FAILED'],
      ['an unknown field', { definition: 'trigger', priority: 1 }, 400, 'VALIDATION_FAILED'],
      ['an input over 256 KiB', { definition: 'trigger', input: { blob: 'x'.repeat(256 * 1024) } }, 400, 'VALIDATION_FAILED'],
    ])('should refuse %s', async (_label, body, status, code) => {
      const res = await api.post('/v1/sagas', body);
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
    });

    it('should refuse a disabled definition with 409', async () => {
      await register('disabled-def', [step('dd1')]);
      await api.delete('/v1/definitions/disabled-def');
      const res = await api.post('/v1/sagas', { definition: 'disabled-def' });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('DEFINITION_DISABLED');
    });

    it('should refuse a definition disabled after sagas were started on it', async () => {
      await register('disabled-later', [step('dl1')]);
      expect((await api.post('/v1/sagas', { definition: 'disabled-later' })).status).toBe(202);
      await api.delete('/v1/definitions/disabled-later');
      const res = await api.post('/v1/sagas', { definition: 'disabled-later' });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('DEFINITION_DISABLED');
    });

    it('should start the latest version registered on another instance, and refuse it once disabled there', async () => {
      const other = await startTestApp({ ROLE: 'api' }, t);
      try {
        const otherApi = httpClient(other.baseUrl);
        await register('moving', [step('mv1')]);
        // This instance now knows version 1 as the latest.
        expect((await api.post('/v1/sagas', { definition: 'moving' })).body.version).toBe(1);
        expect((await otherApi.post('/v1/definitions', { name: 'moving', steps: [step('mv1'), step('mv2')] })).status).toBe(201);
        const started = await api.post('/v1/sagas', { definition: 'moving' });
        expect(started.status).toBe(202);
        expect(started.body.version).toBe(2);
        expect(started.body.steps.map((s: { name: string }) => s.name)).toEqual(['mv1', 'mv2']);
        expect((await otherApi.delete('/v1/definitions/moving')).status).toBeLessThan(300);
        const refused = await api.post('/v1/sagas', { definition: 'moving' });
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe('DEFINITION_DISABLED');
      } finally {
        await other.close();
      }
    });
  });
});
