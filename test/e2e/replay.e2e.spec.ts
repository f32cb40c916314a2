import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi, type SagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('Replay and cancel (SPEC §2, §5)', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;
  let register: SagaApi['register'];
  let settled: SagaApi['settled'];
  let events: SagaApi['events'];

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    ({ register, settled, events } = sagaApi(api));
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  function step(name: string, extra: Record<string, unknown> = {}) {
    return {
      name,
      action: { type: 'http', url: `${p.url}/${name}` },
      compensation: { type: 'http', url: `${p.url}/${name}/undo` },
      retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 },
      timeoutMs: 2000,
      ...extra,
    };
  }




  /** A switch the participant reads on each call: fail (with this status) until fixed. */
  function breakable(path: string, status = 500) {
    const state = { broken: true };
    p.on(path, () => (state.broken ? { status, body: { error: 'down' } } : { status: 200, body: { ok: true, path } }));
    return state;
  }

  const callsOf = (sagaId: string, path: string) => p.callsTo(path).filter((c) => c.body?.sagaId === sagaId);

  it('should resume a PAUSED saga at the failed step with a fresh attempt budget, then go on to COMPLETED', async () => {
    await register('rp-pause', [step('pa1'), step('pa2'), step('pa3')], { onStepFailure: 'pause' });
    const pa2 = breakable('/pa2');
    const saga = await settled((await api.post('/v1/sagas', { definition: 'rp-pause' })).body.id);
    expect(saga.status).toBe('PAUSED');
    expect(saga.steps[1]).toMatchObject({ status: 'FAILED', attempts: 2 });

    pa2.broken = false;
    // The replayed step answers slowly, so the 202 shows the saga as the replay left it (its steps run at once now).
    p.on('/pa2', () => ({ status: 200, body: { ok: true }, delayMs: 300 }));
    const replayed = await api.post(`/v1/sagas/${saga.id}/replay`, { reason: 'card service fixed' });
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ id: saga.id, run: 1, status: 'RUNNING', error: null });
    const done = await settled(saga.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: { status: string; attempts: number }) => [s.status, s.attempts])).toEqual([
      ['SUCCEEDED', 1], ['SUCCEEDED', 3], ['SUCCEEDED', 1],
    ]);
    // The same step of the same run: the same idempotency key, the next attempt number; pa1 is not run again.
    const pa2Calls = callsOf(saga.id, '/pa2');
    expect(pa2Calls.map((c) => c.body.attempt)).toEqual([1, 2, 3]);
    expect(new Set(pa2Calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([`${saga.id}:1:pa2:action`]));
    expect(callsOf(saga.id, '/pa1')).toHaveLength(1);
    const replayEvent = (await events(saga.id)).find((e) => e.type === 'SagaReplayed');
    expect(replayEvent).toMatchObject({ run: 1, data: { fromStatus: 'PAUSED', reason: 'card service fixed', by: 'bootstrap', step: 'pa2' } });
  });

  it('should pause again when the replayed step fails through its fresh budget', async () => {
    await register('rp-pause-again', [step('pg1')], { onStepFailure: 'pause' });
    breakable('/pg1');
    const saga = await settled((await api.post('/v1/sagas', { definition: 'rp-pause-again' })).body.id);
    expect((await api.post(`/v1/sagas/${saga.id}/replay`)).status).toBe(202);
    await waitFor('the replayed attempts', async () => (callsOf(saga.id, '/pg1').length >= 4 ? true : undefined));
    const again = await settled(saga.id);
    expect(again.status).toBe('PAUSED');
    expect(again.steps[0].attempts).toBe(4);
    expect(callsOf(saga.id, '/pg1').map((c) => c.body.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('should retry the failed compensation of a FAILED saga and go on compensating in reverse order', async () => {
    await register('rp-failed', [step('fa1'), step('fa2'), step('fa3')]);
    p.on('/fa3', () => ({ status: 422, body: { reason: 'rejected' } }));
    const undo2 = breakable('/fa2/undo');
    const saga = await settled((await api.post('/v1/sagas', { definition: 'rp-failed' })).body.id);
    expect(saga.status).toBe('FAILED');
    expect(saga.error).toMatchObject({ code: 'COMPENSATION_FAILED', step: 'fa2', cause: { code: 'STEP_FAILED', step: 'fa3' } });
    expect(callsOf(saga.id, '/fa1/undo')).toHaveLength(0);

    undo2.broken = false;
    // The retried compensation answers slowly, so the 202 shows the saga as the replay left it.
    p.on('/fa2/undo', () => ({ status: 200, body: { ok: true, path: '/fa2/undo' }, delayMs: 300 }));
    expect((await api.post(`/v1/sagas/${saga.id}/replay`)).body.status).toBe('COMPENSATING');
    const done = await settled(saga.id);
    expect(done.status).toBe('COMPENSATED');
    expect(done.error).toMatchObject({ code: 'STEP_FAILED', step: 'fa3' });
    expect(done.steps[1].compensation).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
    expect(done.steps[0].compensation).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    const undoCalls = p.calls.filter((c) => c.body?.sagaId === saga.id && c.body.phase === 'compensation');
    expect(undoCalls.map((c) => `${c.path}#${c.body.attempt}`)).toEqual(['/fa2/undo#1', '/fa2/undo#2', '/fa2/undo#3', '/fa1/undo#1']);
  });

  it('should start a new run of a COMPENSATED saga with new idempotency keys and the new input, keeping both runs in the history', async () => {
    await register('rp-comp', [step('co1'), step('co2')]);
    const co2 = breakable('/co2', 422);
    const saga = await settled((await api.post('/v1/sagas', { definition: 'rp-comp', input: { n: 1 } })).body.id);
    expect(saga.status).toBe('COMPENSATED');

    co2.broken = false;
    // The new run's first step answers slowly, so the 202 shows the run as the replay started it.
    p.on('/co1', () => ({ status: 200, body: { ok: true }, delayMs: 300 }));
    const replayed = await api.post(`/v1/sagas/${saga.id}/replay`, { input: { n: 2 } });
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ run: 2, status: 'RUNNING', input: { n: 2 }, error: null, finishedAt: null, results: {} });
    expect(replayed.body.steps[1]).toMatchObject({ status: 'PENDING', attempts: 0, output: null, error: null, compensation: null, startedAt: null });
    const done = await settled(saga.id);
    expect(done).toMatchObject({ status: 'COMPLETED', run: 2, input: { n: 2 } });
    const run2 = p.calls.filter((c) => c.body?.sagaId === saga.id && c.body.run === 2);
    expect(run2.map((c) => [c.path, c.headers['idempotency-key'], c.body.attempt, c.body.input])).toEqual([
      ['/co1', `${saga.id}:2:co1:action`, 1, { n: 2 }],
      ['/co2', `${saga.id}:2:co2:action`, 1, { n: 2 }],
    ]);
    const history = await events(saga.id);
    expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history.filter((e) => e.run === 1).map((e) => e.type)).toContain('SagaCompensated');
    expect(history.filter((e) => e.run === 2).map((e) => e.type)).toEqual(['SagaReplayed', 'StepStarted', 'StepSucceeded', 'StepStarted', 'StepSucceeded', 'SagaCompleted']);
  });

  it('should replay a replayed saga: a third run after the second was compensated too', async () => {
    await register('rp-twice', [step('tw1'), step('tw2')]);
    const tw2 = breakable('/tw2', 422);
    const saga = await settled((await api.post('/v1/sagas', { definition: 'rp-twice' })).body.id);
    expect((await api.post(`/v1/sagas/${saga.id}/replay`, { reason: 'first try' })).status).toBe(202);
    const second = await settled(saga.id);
    expect(second).toMatchObject({ status: 'COMPENSATED', run: 2 });
    tw2.broken = false;
    expect((await api.post(`/v1/sagas/${saga.id}/replay`, { reason: 'second try' })).status).toBe(202);
    expect(await settled(saga.id)).toMatchObject({ status: 'COMPLETED', run: 3 });
    const replays = (await events(saga.id)).filter((e) => e.type === 'SagaReplayed');
    expect(replays.map((e) => [e.run, e.data.reason, e.data.previousRun])).toEqual([[2, 'first try', 1], [3, 'second try', 2]]);
    expect(callsOf(saga.id, '/tw1/undo').map((c) => c.headers['idempotency-key'])).toEqual([`${saga.id}:1:tw1:compensation`, `${saga.id}:2:tw1:compensation`]);
  });

  it('should let exactly one of 10 concurrent replays win and dispatch its work once', async () => {
    await register('rp-race', [step('ra1')], { onStepFailure: 'pause' });
    const ra1 = breakable('/ra1', 422);
    const saga = await settled((await api.post('/v1/sagas', { definition: 'rp-race' })).body.id);
    expect(saga.status).toBe('PAUSED');
    ra1.broken = false;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => api.post(`/v1/sagas/${saga.id}/replay`, { reason: `r${i}` })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const lost of answers.filter((a) => a.status === 409)) {
      expect(lost.headers.get('content-type')).toContain('application/problem+json');
      expect(lost.body.code).toBe('SAGA_STATE_CONFLICT');
    }
    expect((await settled(saga.id)).status).toBe('COMPLETED');
    await new Promise((r) => setTimeout(r, 200)); // a second dispatch, if any, would arrive by now
    expect(callsOf(saga.id, '/ra1').map((c) => c.body.attempt)).toEqual([1, 2]);
    expect((await events(saga.id)).filter((e) => e.type === 'SagaReplayed')).toHaveLength(1);
  });

  it('should answer 409 for replay of RUNNING, COMPLETED and COMPENSATING sagas and of a new input for a PAUSED one; 404 and 400 for bad requests', async () => {
    await register('rp-no', [step('no1'), step('no2')], { onStepFailure: 'pause' });
    p.on('/no1', () => 'hang');
    const running = (await api.post('/v1/sagas', { definition: 'rp-no' })).body.id;
    await waitFor('no1 to be called', async () => (callsOf(running, '/no1').length > 0 ? true : undefined));
    const conflict = await api.post(`/v1/sagas/${running}/replay`);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: 'SAGA_STATE_CONFLICT', detail: expect.stringContaining('RUNNING') });
    // COMPENSATING: cancelled while its step hangs.
    expect((await api.post(`/v1/sagas/${running}/cancel`)).body.status).toBe('COMPENSATING');
    expect((await api.post(`/v1/sagas/${running}/replay`)).status).toBe(409);

    p.on('/no1', () => ({ status: 200, body: {} }));
    await register('rp-done', [step('dn1')]);
    const completed = await settled((await api.post('/v1/sagas', { definition: 'rp-done' })).body.id);
    expect(completed.status).toBe('COMPLETED');
    expect((await api.post(`/v1/sagas/${completed.id}/replay`)).status).toBe(409);

    p.on('/no2', () => ({ status: 422 }));
    const paused = await settled((await api.post('/v1/sagas', { definition: 'rp-no' })).body.id);
    expect(paused.status).toBe('PAUSED');
    const withInput = await api.post(`/v1/sagas/${paused.id}/replay`, { input: { x: 1 } });
    expect(withInput.status).toBe(409);
    expect(withInput.body.detail).toContain('COMPENSATED');
    expect((await api.get(`/v1/sagas/${paused.id}`)).body.status).toBe('PAUSED');

    expect((await api.post('/v1/sagas/00000000-0000-4000-8000-000000000000/replay')).status).toBe(404);
    const unknownField = await api.post(`/v1/sagas/${paused.id}/replay`, { reason: 'x', force: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors[0].path).toBe('force');
    expect((await api.post(`/v1/sagas/${paused.id}/replay`, { reason: 42 })).status).toBe(400);
    const huge = await api.post(`/v1/sagas/${paused.id}/replay`, { input: { blob: 'x'.repeat(300 * 1024) } });
    expect(huge.status).toBe(400);
    expect(huge.body.errors[0]).toMatchObject({ path: 'input', message: expect.stringContaining('256 KiB') });
    expect((await api.get(`/v1/sagas/${paused.id}`)).body.status).toBe('PAUSED');
  });

  it('should cancel RUNNING and PAUSED sagas and answer 409 in every other state', async () => {
    await register('cx', [step('cx1'), step('cx2')], { onStepFailure: 'pause' });
    await register('cx-comp', [step('cy1'), step('cy2')]);
    p.on('/cx1', () => ({ status: 200, body: {}, delayMs: 300 }));
    p.on('/cx2', () => ({ status: 422 }));
    p.on('/cy2', () => ({ status: 422 }));
    p.on('/cy1/undo', () => ({ status: 422 }));

    const running = (await api.post('/v1/sagas', { definition: 'cx' })).body.id;
    // A bad reason is refused before anything changes.
    const tooLong = await api.post(`/v1/sagas/${running}/cancel`, { reason: 'x'.repeat(1001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors.map((e: { path: string }) => e.path)).toEqual(['reason']);
    expect((await api.post(`/v1/sagas/${running}/cancel`, { why: 'unknown field' })).status).toBe(400);
    expect((await api.get(`/v1/sagas/${running}`)).body.status).toBe('RUNNING');
    expect((await api.post(`/v1/sagas/${running}/cancel`, { reason: 'customer withdrew' })).status).toBe(202);
    expect((await events(running)).find((e) => e.type === 'SagaCancelled')?.data).toMatchObject({ reason: 'customer withdrew' });
    const compensating = running; // now COMPENSATING until cx1's attempt ends
    expect((await api.post(`/v1/sagas/${compensating}/cancel`)).status).toBe(409);
    expect((await settled(running)).status).toBe('COMPENSATED');
    expect((await api.post(`/v1/sagas/${running}/cancel`)).status).toBe(409);

    const paused = await settled((await api.post('/v1/sagas', { definition: 'cx' })).body.id);
    expect(paused.status).toBe('PAUSED');
    expect((await api.post(`/v1/sagas/${paused.id}/cancel`)).status).toBe(202);
    expect(await settled(paused.id)).toMatchObject({ status: 'COMPENSATED', error: { code: 'CANCELLED' } });

    const failed = await settled((await api.post('/v1/sagas', { definition: 'cx-comp' })).body.id);
    expect(failed.status).toBe('FAILED');
    const refused = await api.post(`/v1/sagas/${failed.id}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SAGA_STATE_CONFLICT');
    expect((await api.get(`/v1/sagas/${failed.id}`)).body.status).toBe('FAILED');
  });

  describe('bulk replay', () => {
    it('should report in a dry run, then replay every match in batches, each saga once even against concurrent single replays', async () => {
      await register('bulk-a', [step('ba1')], { onStepFailure: 'pause' });
      await register('bulk-b', [step('bb1')], { onStepFailure: 'pause' });
      const ba1 = breakable('/ba1', 422);
      breakable('/bb1', 422);
      const a = await Promise.all(Array.from({ length: 130 }, () => api.post('/v1/sagas', { definition: 'bulk-a' })));
      const b = await Promise.all(Array.from({ length: 3 }, () => api.post('/v1/sagas', { definition: 'bulk-b' })));
      const aIds = a.map((r) => r.body.id as string);
      await waitFor('130 bulk-a sagas to pause', async () => {
        const res = await api.get('/v1/sagas?definition=bulk-a&status=PAUSED&limit=500');
        return res.body.items.length === 130 ? true : undefined;
      });
      await Promise.all(b.map((r) => settled(r.body.id)));

      const dry = await api.post('/v1/sagas/replay', { definition: 'bulk-a', status: ['PAUSED'], dryRun: true });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ dryRun: true, matched: 130, replayed: 0, skipped: 0, truncated: false });
      expect(new Set(dry.body.sagaIds)).toEqual(new Set(aIds));
      expect((await api.get(`/v1/sagas/${aIds[0]}`)).body.status).toBe('PAUSED');

      const limited = await api.post('/v1/sagas/replay', { definition: 'bulk-a', dryRun: true, limit: 50 });
      expect(limited.body).toMatchObject({ matched: 50, truncated: true });

      ba1.broken = false;
      // Operators replaying some of the same sagas one by one at the same time.
      const [real, ...singles] = await Promise.all([
        api.post('/v1/sagas/replay', { definition: 'bulk-a', reason: 'inventory back' }),
        ...aIds.slice(0, 20).map((id) => api.post(`/v1/sagas/${id}/replay`, { reason: 'single' })),
      ]);
      const singlesWon = singles.filter((r) => r.status === 202).length;
      expect(singles.every((r) => r.status === 202 || r.status === 409)).toBe(true);
      expect(real.body.dryRun).toBe(false);
      expect(real.body.replayed + singlesWon).toBe(130);
      expect(real.body.replayed + real.body.skipped).toBe(real.body.matched);
      expect(Object.values(real.body.skippedReasons).reduce((a: number, b) => a + (b as number), 0)).toBe(real.body.skipped);
      await Promise.all(aIds.map(async (id) => expect((await settled(id)).status).toBe('COMPLETED')));
      for (const id of aIds) expect((await events(id)).filter((e) => e.type === 'SagaReplayed')).toHaveLength(1);
      const history = await events(aIds[77]);
      expect(history.find((e) => e.type === 'SagaReplayed')?.data.reason).toBe('inventory back');
      // The other definition was not touched.
      for (const r of b) expect((await api.get(`/v1/sagas/${r.body.id}`)).body.status).toBe('PAUSED');
      // Nothing left to replay for bulk-a.
      expect((await api.post('/v1/sagas/replay', { definition: 'bulk-a' })).body).toMatchObject({ matched: 0, replayed: 0 });
    });

    it('should replay nothing without a filter or "all": true, and refuse null for dryRun and the filters', async () => {
      await register('bulk-guard', [step('bg1')], { onStepFailure: 'pause' });
      breakable('/bg1', 422);
      const paused = await settled((await api.post('/v1/sagas', { definition: 'bulk-guard' })).body.id);
      expect(paused.status).toBe('PAUSED');
      for (const body of [undefined, {}, { dryRun: true }, { reason: 'why not' }, { limit: 5 }]) {
        const res = await api.post('/v1/sagas/replay', body);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.errors[0].message).toMatch(/names no filter.*"all": true/);
      }
      for (const [body, path] of [
        [{ dryRun: null, definition: 'bulk-guard' }, 'dryRun'],
        [{ definition: null }, 'definition'],
        [{ status: null }, 'status'],
        [{ status: [] }, 'status'],
        [{ all: false }, 'all'],
        [{ all: null }, 'all'],
        [{ errorCode: ['NOPE'] }, 'errorCode'],
      ] as const) {
        const res = await api.post('/v1/sagas/replay', body);
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      }
      expect((await api.get(`/v1/sagas/${paused.id}`)).body.status).toBe('PAUSED');
      const everything = await api.post('/v1/sagas/replay', { all: true, dryRun: true, limit: 10_000 });
      expect(everything.status).toBe(200);
      expect(everything.body.sagaIds).toContain(paused.id);
    });

    it('should leave out sagas a person cancelled or that passed their deadline unless errorCode names them', async () => {
      await register('bulk-stops', [step('bs1')], { onStepFailure: 'pause' });
      // Paused at its failed step, then compensated when its deadline passes (the reconciler applies it).
      await register('bulk-late', [step('bl1')], { timeoutMs: 300, onStepFailure: 'pause' });
      breakable('/bs1', 422);
      breakable('/bl1', 422);
      const failed = await settled((await api.post('/v1/sagas', { definition: 'bulk-stops' })).body.id);
      const cancelled = await settled((await api.post('/v1/sagas', { definition: 'bulk-stops' })).body.id);
      expect((await api.post(`/v1/sagas/${cancelled.id}/cancel`, { reason: 'customer withdrew' })).status).toBe(202);
      expect((await settled(cancelled.id)).error.code).toBe('CANCELLED');
      const lateId = (await api.post('/v1/sagas', { definition: 'bulk-late' })).body.id as string;
      const late = await waitFor('the late saga to compensate', async () => {
        const saga = (await api.get(`/v1/sagas/${lateId}`)).body;
        return saga.status === 'COMPENSATED' ? saga : undefined;
      }, 20_000);
      expect(late.error.code).toBe('SAGA_TIMEOUT');

      const byStatus = await api.post('/v1/sagas/replay', { status: ['PAUSED', 'COMPENSATED'], dryRun: true, limit: 10_000 });
      expect(byStatus.body.sagaIds).toContain(failed.id);
      expect(byStatus.body.sagaIds).not.toContain(cancelled.id);
      expect(byStatus.body.sagaIds).not.toContain(late.id);
      expect(byStatus.body.excludedErrorCodes).toEqual(['CANCELLED', 'SAGA_TIMEOUT']);
      const all = await api.post('/v1/sagas/replay', { all: true, dryRun: true, limit: 10_000 });
      expect(all.body.sagaIds).not.toContain(cancelled.id);
      expect(all.body.sagaIds).not.toContain(late.id);

      const named = await api.post('/v1/sagas/replay', { errorCode: ['CANCELLED'], definition: 'bulk-stops', dryRun: true });
      expect(named.body).toMatchObject({ matched: 1, sagaIds: [cancelled.id], excludedErrorCodes: ['SAGA_TIMEOUT'] });
      const replayed = await api.post('/v1/sagas/replay', { errorCode: ['SAGA_TIMEOUT', 'STEP_FAILED'], createdFrom: failed.createdAt });
      expect(replayed.body).toMatchObject({ replayed: 2, excludedErrorCodes: ['CANCELLED'] });
      expect(new Set(replayed.body.sagaIds)).toEqual(new Set([failed.id, late.id]));
      expect((await api.get(`/v1/sagas/${cancelled.id}`)).body).toMatchObject({ status: 'COMPENSATED', run: 1 });
    });

    it('should refuse statuses that cannot be replayed and unknown fields', async () => {
      const bad = await api.post('/v1/sagas/replay', { status: ['RUNNING'], dryRun: 'yes' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['dryRun', 'status']);
      expect((await api.post('/v1/sagas/replay', { input: {} })).status).toBe(400);
      const notAList = await api.post('/v1/sagas/replay', { status: 'PAUSED' });
      expect(notAList.status).toBe(400);
      expect(notAList.body.errors[0].path).toBe('status');
      expect((await api.post('/v1/sagas/replay', { limit: 10_001 })).status).toBe(400);
    });
  });
});
