import type { Action } from '../../../src/definitions/definition.model.js';
import { decide } from '../../../src/engine/decide.js';
import { def, group, Sim, step } from '../../support/engine-sim.js';

const http = (url: string, extra: Partial<Extract<Action, { type: 'http' }>> = {}): Action => ({ type: 'http', method: 'POST', url, headers: {}, ...extra });
const callback = (url: string): Action => http(url, { completion: 'callback' });
const signal = (name: string): Action => ({ type: 'signal', signal: name });

/** The `data` of the history events of one type, in order. */
function eventData(sim: Sim, type: string): Array<Record<string, unknown> | undefined> {
  return sim.log.flatMap((d) => (d.outcome === 'applied' ? d.events.filter((e) => e.type === type).map((e) => e.data) : []));
}

/** Marks the outstanding attempt of `name` as waiting (what the worker stores once a callback is acknowledged, or a signal wait begins). */
function waits(sim: Sim, name: string, kind: 'callback' | 'signal'): void {
  const i = sim.index(name);
  sim.saga = { ...sim.saga, steps: sim.saga.steps.map((s, k) => (k === i ? { ...s, waiting: kind } : s)) };
}

describe(`${decide.name}: data mapping (SPEC §11)`, () => {
  const mapped = () =>
    def([
      step('reserve'),
      step('charge', {
        action: http('http://pay/orders/${input.order.id}/charge', {
          headers: { 'x-reservation': '${results.reserve.id}', authorization: 'Bearer ${secret:PAY_TOKEN}' },
          body: { amount: '${input.order.total}', items: '${results.reserve.items}', note: 'order ${input.order.id} run ${saga.run}' },
        }),
        compensation: http('http://pay/refunds/${results.charge.chargeId}'),
      }),
    ]);

  it('should record the rendered request in StepStarted, typed and percent-encoded, with secret references left as they are', () => {
    const sim = new Sim(mapped(), { input: { order: { id: 'a/b c', total: 12.5 } } });
    sim.ok({ id: 'r-1', items: [{ sku: 'x' }] }, 'reserve');
    expect(sim.outstanding()).toEqual(['charge:action#1']);
    const started = eventData(sim, 'StepStarted');
    expect(started[0]).toBeUndefined(); // reserve has nothing to render
    expect(started[1]).toEqual({
      request: {
        method: 'POST',
        url: 'http://pay/orders/a%2Fb%20c/charge',
        headers: { 'x-reservation': 'r-1', authorization: 'Bearer ${secret:PAY_TOKEN}' },
        body: { amount: 12.5, items: [{ sku: 'x' }], note: 'order a/b c run 1' },
      },
    });
  });

  it('should let a compensation read its own step output, and record it in CompensationStarted', () => {
    const sim = new Sim(mapped(), { input: { order: { id: 7, total: 1 } } });
    sim.ok({ id: 'r-1', items: [] }, 'reserve');
    sim.ok({ chargeId: 'ch 9' }, 'charge');
    expect(sim.saga.status).toBe('COMPLETED');
  });

  it('should fail the step for good with MAPPING_FAILED, dispatch nothing for it, and compensate what came before', () => {
    const sim = new Sim(mapped(), { input: { order: { total: 1 } } });
    sim.ok({ id: 'r-1', items: [] }, 'reserve');
    expect(sim.dispatches()).toEqual(['reserve:action#1', 'reserve:compensation#1']);
    const failed = sim.saga.steps[sim.index('charge')];
    expect(failed).toMatchObject({ status: 'FAILED', awaiting: null, attempts: 1 });
    expect(sim.saga.status).toBe('COMPENSATING');
    expect(sim.saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'charge' });
    expect(sim.saga.error?.message).toContain('${input.order.id}: input.order has no "id"');
    const stepFailed = eventData(sim, 'StepFailed')[0];
    expect(stepFailed?.error).toMatchObject({ code: 'MAPPING_FAILED', retryable: false, attempt: 1 });
    sim.ok({}, 'reserve');
    expect(sim.saga.status).toBe('COMPENSATED');
  });

  it('should compensate nothing and finish at once when the first step cannot be mapped', () => {
    const sim = new Sim(def([step('first', { action: http('http://p/${input.missing}') }), step('second')]), { input: {} });
    expect(sim.dispatches()).toEqual([]);
    expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'first' } });
  });

  it('should pause on MAPPING_FAILED when the definition pauses, and fail again on a replay with the same data', () => {
    const sim = new Sim(def([step('only', { action: http('http://p/${input.id}') })], 'pause'), { input: {} });
    expect(sim.saga).toMatchObject({ status: 'PAUSED', error: { step: 'only' } });
    sim.send({ type: 'replay' });
    expect(sim.saga.status).toBe('PAUSED');
    expect(sim.saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 2, awaiting: null });
  });

  it('should fail a compensation for good with MAPPING_FAILED, leaving the saga FAILED', () => {
    const sim = new Sim(def([step('a', { compensation: http('http://p/undo/${results.a.id}') }), step('b')]), { input: {} });
    sim.ok({ other: 1 }, 'a');
    sim.err({ retryable: false }, 'b');
    expect(sim.saga.status).toBe('FAILED');
    expect(sim.saga.steps[0]).toMatchObject({ status: 'COMPENSATION_FAILED', awaiting: null });
    expect(eventData(sim, 'CompensationFailed')[0]?.error).toMatchObject({ code: 'MAPPING_FAILED', retryable: false });
    expect(sim.dispatches().filter((d) => d.includes('compensation'))).toEqual([]);
    expect(sim.saga.error).toMatchObject({ code: 'COMPENSATION_FAILED', step: 'a' });
  });

  it('should start no further branch once a branch step cannot be mapped, and wait for the branches already started', () => {
    const sim = new Sim(def([group('g', [step('left')], [step('middle', { action: http('http://p/${input.x}') })], [step('right')])]), { input: {} });
    expect(sim.outstanding()).toEqual(['left:action#1']);
    expect(sim.saga.stopRequested).toMatchObject({ step: 'middle' });
    sim.ok({}, 'left');
    expect(sim.outstanding()).toEqual(['left:compensation#1']);
    sim.ok({}, 'left');
    expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'middle' } });
  });
});

describe(`${decide.name}: callback and signal steps (SPEC §10)`, () => {
  it('should fail a signal step for good when its timeout passes: no retry, nothing to compensate', () => {
    const sim = new Sim(def([step('reserve'), step('approve', { action: signal('manager-approval'), compensation: false, maxAttempts: 3 })]));
    sim.ok({}, 'reserve');
    sim.send({ type: 'attempt-timed-out', ...sim.address('approve') });
    expect(sim.saga.steps[1]).toMatchObject({ status: 'FAILED', lastAttemptTimedOut: false, attempts: 1 });
    expect(eventData(sim, 'StepFailed')[0]?.error).toMatchObject({ code: 'SIGNAL_TIMEOUT', retryable: false });
    expect(sim.outstanding()).toEqual(['reserve:compensation#1']);
  });

  it('should retry a callback attempt that timed out, and compensate it as unknown when the last one does', () => {
    const sim = new Sim(def([step('pay', { action: callback('http://p/pay'), maxAttempts: 2 })]));
    sim.send({ type: 'attempt-timed-out', ...sim.address('pay') });
    expect(sim.outstanding()).toEqual(['pay:action#2']);
    sim.send({ type: 'attempt-timed-out', ...sim.address('pay') });
    expect(sim.saga.steps[0]).toMatchObject({ status: 'COMPENSATING', lastAttemptTimedOut: true });
    expect(sim.outstanding()).toEqual(['pay:compensation#1']);
  });

  it('should compensate at once on cancel while a signal step waits', () => {
    const sim = new Sim(def([step('reserve'), step('approve', { action: signal('ok') })]));
    sim.ok({}, 'reserve');
    waits(sim, 'approve', 'signal');
    sim.send({ type: 'cancel' });
    expect(sim.saga.status).toBe('COMPENSATING');
    expect(sim.saga.error).toMatchObject({ code: 'CANCELLED' });
    // The signal step was not called: only the step before it is undone.
    expect(sim.outstanding()).toEqual(['reserve:compensation#1']);
    expect(sim.saga.steps[1]).toMatchObject({ status: 'FAILED', awaiting: null, lastAttemptTimedOut: false });
  });

  it('should end a signal wait at once even before the worker marked it waiting (a signal step calls nothing)', () => {
    const sim = new Sim(def([step('approve', { action: signal('ok') })]));
    sim.send({ type: 'deadline' });
    expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'SAGA_TIMEOUT' } });
  });

  it('should compensate an acknowledged callback step as unknown at once on cancel', () => {
    const sim = new Sim(def([step('reserve'), step('pay', { action: callback('http://p/pay') })]));
    sim.ok({}, 'reserve');
    waits(sim, 'pay', 'callback');
    sim.send({ type: 'cancel' });
    expect(sim.outstanding()).toEqual(['pay:compensation#1']);
    expect(sim.saga.steps[1]).toMatchObject({ status: 'COMPENSATING', lastAttemptTimedOut: true });
    sim.ok({}, 'pay');
    sim.ok({}, 'reserve');
    expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'CANCELLED' } });
  });

  it('should wait for a callback step whose call is still in flight (not acknowledged) before compensating', () => {
    const sim = new Sim(def([step('pay', { action: callback('http://p/pay') })]));
    sim.send({ type: 'cancel' });
    expect(sim.outstanding()).toEqual(['pay:action#1']);
    expect(sim.saga.stopRequested).toMatchObject({ code: 'CANCELLED' });
  });

  it('should end a waiting branch at once and wait for the call in flight in the other branch', () => {
    const sim = new Sim(def([group('g', [step('approve', { action: signal('ok') })], [step('ship')])]));
    sim.send({ type: 'cancel' });
    expect(sim.outstanding()).toEqual(['ship:action#1']);
    sim.ok({}, 'ship');
    expect(sim.outstanding()).toEqual(['ship:compensation#1']);
  });

  it('should pause with PIVOT_OUTCOME_UNKNOWN when cancel ends a pivot waiting for its callback', () => {
    const sim = new Sim(def([step('reserve'), step('charge', { kind: 'pivot', action: callback('http://p/charge') })]));
    sim.ok({}, 'reserve');
    waits(sim, 'charge', 'callback');
    sim.send({ type: 'cancel' });
    expect(sim.saga).toMatchObject({ status: 'PAUSED', error: { code: 'PIVOT_OUTCOME_UNKNOWN', cause: { code: 'CANCELLED' } } });
  });

  it('should drop a timeout of an attempt that is no longer outstanding', () => {
    const sim = new Sim(def([step('pay', { action: callback('http://p/pay') })]));
    const address = sim.address('pay');
    sim.ok({}, 'pay');
    expect(sim.send({ type: 'attempt-timed-out', ...address })).toMatchObject({ outcome: 'stale' });
  });
});
