import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const SETTLED = new Set(['COMPLETED', 'COMPENSATED', 'PAUSED', 'FAILED']);

describe('Saga execution (SPEC §2, §3)', () => {
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

  async function register(name: string, steps: unknown[], extra: Record<string, unknown> = {}) {
    const res = await api.post('/v1/definitions', { name, steps, ...extra });
    expect([200, 201]).toContain(res.status);
    return res.body;
  }

  async function settled(id: string) {
    return waitFor(`saga ${id} to settle`, async () => {
      const res = await api.get(`/v1/sagas/${id}`);
      return SETTLED.has(res.body.status) ? res.body : undefined;
    });
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
});
