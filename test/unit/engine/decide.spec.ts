import { decide } from '../../../src/engine/decide.js';
import type { EngineInput } from '../../../src/engine/saga-state.js';
import { def, NOW, Sim, step } from '../../support/engine-sim.js';

describe(decide.name, () => {
  describe('forward execution', () => {
    it('should run steps strictly in order, one at a time, and complete', () => {
      const sim = new Sim(def([step('a'), step('b'), step('c')]));
      expect(sim.view()).toMatchObject({ status: 'RUNNING', cursor: 0, phase: 'action', attempt: 1, awaiting: true });
      sim.ok({ r: 1 });
      expect(sim.view().cursor).toBe(1);
      sim.ok();
      sim.ok();
      expect(sim.saga.status).toBe('COMPLETED');
      expect(sim.view().awaiting).toBe(false);
      expect(sim.dispatches()).toEqual(['a:action#1', 'b:action#1', 'c:action#1']);
      expect(sim.events()).toEqual([
        'SagaStarted', 'StepStarted(a)', 'StepSucceeded(a)', 'StepStarted(b)', 'StepSucceeded(b)', 'StepStarted(c)', 'StepSucceeded(c)', 'SagaCompleted',
      ]);
      expect(sim.saga.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    });

    it('should record each output under the step name', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      const d = sim.ok({ reservationId: 'r-1' });
      expect(d.outcome === 'applied' && d.results).toEqual({ a: { reservationId: 'r-1' } });
      const d2 = sim.send({ type: 'attempt-succeeded', step: 1, phase: 'action', attempt: 1, output: undefined });
      expect(d2.outcome === 'applied' && d2.results).toEqual({ b: null });
    });

    it('should set finishedAt only when the saga ends', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      const first = sim.ok();
      expect(first.outcome === 'applied' && first.saga.finishedAt).toBeUndefined();
      const last = sim.ok();
      expect(last.outcome === 'applied' && last.saga.finishedAt).toEqual(NOW);
    });
  });

  describe('retries', () => {
    it('should retry a retryable failure with backoff until maxAttempts, then fail for good', () => {
      const sim = new Sim(def([step('a', { maxAttempts: 3 })]));
      const first = sim.err({ retryable: true });
      expect(first.outcome === 'applied' && first.commands).toEqual([
        { type: 'dispatch', step: 0, phase: 'action', attempt: 2, notBefore: new Date(NOW.getTime() + 100) },
      ]);
      const second = sim.err({ retryable: true });
      expect(second.outcome === 'applied' && second.commands[0].notBefore).toEqual(new Date(NOW.getTime() + 200));
      sim.err({ retryable: true });
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 3 });
      expect(sim.events().filter((e) => e.startsWith('StepRetryScheduled'))).toHaveLength(2);
    });

    it('should not retry a permanent failure', () => {
      const sim = new Sim(def([step('a', { maxAttempts: 5 })]));
      sim.err({ retryable: false });
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.dispatches()).toEqual(['a:action#1']);
      expect(sim.saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'a' });
    });

    it('should succeed on a later attempt and continue', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      sim.err({ retryable: true, timedOut: true });
      sim.ok();
      expect(sim.saga.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 2, lastAttemptTimedOut: false });
      expect(sim.view().cursor).toBe(1);
    });
  });

  describe('compensation', () => {
    it('should compensate every succeeded step, last first, when a step fails for good', () => {
      const sim = new Sim(def([step('a'), step('b'), step('c'), step('d')]));
      sim.ok();
      sim.ok();
      sim.ok();
      sim.err();
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', cursor: 2, phase: 'compensation', attempt: 1 });
      sim.ok();
      sim.ok();
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.dispatches().filter((d) => d.includes('compensation'))).toEqual([
        'c:compensation#1', 'b:compensation#1', 'a:compensation#1',
      ]);
      expect(sim.saga.steps.map((s) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED']);
      expect(sim.saga.steps.map((s) => s.compensationStatus)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', null]);
    });

    it('should compensate a step whose final attempt timed out (unknown outcome), first', () => {
      const sim = new Sim(def([step('a'), step('b', { maxAttempts: 2 })]));
      sim.ok();
      sim.err({ retryable: true, timedOut: false });
      sim.err({ retryable: true, timedOut: true });
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', cursor: 1, phase: 'compensation' });
      sim.ok();
      sim.ok();
      expect(sim.dispatches().filter((d) => d.includes('compensation'))).toEqual(['b:compensation#1', 'a:compensation#1']);
    });

    it('should not compensate a failed step whose final attempt did not time out, even if an earlier one did', () => {
      const sim = new Sim(def([step('a'), step('b', { maxAttempts: 2 })]));
      sim.ok();
      sim.err({ retryable: true, timedOut: true });
      sim.err({ retryable: false, timedOut: false });
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', cursor: 0 });
    });

    it('should skip steps without a compensation', () => {
      const sim = new Sim(def([step('a'), step('b', { compensation: false }), step('c')]));
      sim.ok();
      sim.ok();
      sim.err();
      expect(sim.view().cursor).toBe(0);
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.saga.steps[1].status).toBe('SUCCEEDED');
    });

    it('should end COMPENSATED at once when nothing needs compensating', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      sim.err();
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.events()).toEqual(['SagaStarted', 'StepStarted(a)', 'StepFailed(a)', 'SagaCompensating', 'SagaCompensated']);
    });

    it('should retry a failed compensation with the step policy, then continue', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      sim.ok();
      sim.err();
      const retry = sim.err({ retryable: true });
      expect(retry.outcome === 'applied' && retry.commands[0]).toMatchObject({ step: 0, phase: 'compensation', attempt: 2 });
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.saga.steps[0]).toMatchObject({ compensationAttempts: 2, compensationStatus: 'SUCCEEDED' });
    });

    it('should end FAILED when a compensation fails for good, keeping why compensation began', () => {
      const sim = new Sim(def([step('a'), step('b', { maxAttempts: 2 }), step('c')]));
      sim.ok();
      sim.ok();
      sim.err();
      sim.err({ retryable: true });
      sim.err({ retryable: true });
      expect(sim.saga.status).toBe('FAILED');
      expect(sim.view().awaiting).toBe(false);
      expect(sim.view().cursor).toBe(1);
      expect(sim.saga.steps[1]).toMatchObject({ status: 'COMPENSATION_FAILED', compensationStatus: 'FAILED' });
      expect(sim.saga.error).toMatchObject({ code: 'COMPENSATION_FAILED', step: 'b', cause: { code: 'STEP_FAILED', step: 'c' } });
      expect(sim.events().at(-1)).toBe('SagaFailed(b)');
    });
  });

  describe('pause', () => {
    it('should pause without compensating when the definition says so', () => {
      const sim = new Sim(def([step('a'), step('b')], 'pause'));
      sim.ok();
      sim.err();
      expect(sim.view()).toMatchObject({ status: 'PAUSED', cursor: 1, awaiting: false });
      expect(sim.saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'b' });
      expect(sim.dispatches()).toEqual(['a:action#1', 'b:action#1']);
    });

    it('should compensate a paused saga when it is cancelled', () => {
      const sim = new Sim(def([step('a'), step('b')], 'pause'));
      sim.ok();
      sim.err({ timedOut: true });
      sim.send({ type: 'cancel' });
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', cursor: 1, phase: 'compensation' });
      expect(sim.saga.error).toMatchObject({ code: 'CANCELLED' });
      sim.ok();
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
    });
  });

  describe('cancel and deadline', () => {
    it.each([
      ['cancel', 'CANCELLED', 'SagaCancelled'],
      ['deadline', 'SAGA_TIMEOUT', 'SagaTimedOut'],
    ] as const)('%s while an attempt is outstanding should wait for it, then compensate what it did', (type, code, event) => {
      const sim = new Sim(def([step('a'), step('b'), step('c')]));
      sim.ok();
      sim.send({ type });
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', phase: 'action', cursor: 1, awaiting: true });
      expect(sim.saga.stopRequested).toMatchObject({ code });
      expect(sim.events()).toContain(event);
      expect(sim.dispatches()).toEqual(['a:action#1', 'b:action#1']);
      sim.ok();
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', phase: 'compensation', cursor: 1, stopRequested: null });
      sim.ok();
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.saga.error).toMatchObject({ code });
      expect(sim.dispatches()).toEqual(['a:action#1', 'b:action#1', 'b:compensation#1', 'a:compensation#1']);
    });

    it('should not retry the outstanding step after a cancel, and skip its compensation when it failed cleanly', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      sim.ok();
      sim.send({ type: 'cancel' });
      sim.err({ retryable: true });
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', cursor: 0, phase: 'compensation' });
      expect(sim.saga.steps[1].status).toBe('FAILED');
    });

    it('should compensate the outstanding step after a cancel when its attempt timed out', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      sim.ok();
      sim.send({ type: 'cancel' });
      sim.err({ retryable: true, timedOut: true });
      expect(sim.view()).toMatchObject({ cursor: 1, phase: 'compensation' });
    });

    it.each([
      ['COMPLETED', (s: Sim) => s.ok()],
      ['COMPENSATED', (s: Sim) => s.err()],
      ['COMPENSATING', (s: Sim) => s.send({ type: 'cancel' })],
    ] as const)('should reject cancel of a %s saga', (status, drive) => {
      const sim = new Sim(def([step('a')]));
      drive(sim);
      if (status !== 'COMPENSATING') expect(sim.saga.status).toBe(status);
      const before = sim.saga;
      const d = sim.send({ type: 'cancel' });
      expect(d.outcome).toBe('rejected');
      expect(sim.saga).toBe(before);
    });

    it('should ignore a deadline after the saga completed', () => {
      const sim = new Sim(def([step('a')]));
      sim.ok();
      expect(sim.send({ type: 'deadline' }).outcome).toBe('stale');
    });
  });

  describe('stale and duplicate results', () => {
    it.each([
      ['a duplicate of an applied result', (s: Sim) => ({ step: 0, phase: 'action', attempt: 1 }), (s: Sim) => s.ok()],
      ['a late result of an attempt already retried', () => ({ step: 0, phase: 'action', attempt: 1 }), (s: Sim) => s.err({ retryable: true })],
      ['a result for another step', () => ({ step: 1, phase: 'action', attempt: 1 }), () => undefined],
      ['a result for the wrong phase', () => ({ step: 0, phase: 'compensation', attempt: 1 }), () => undefined],
    ] as const)('should change nothing for %s', (_label, address, drive) => {
      const sim = new Sim(def([step('a'), step('b')]));
      const target = address(sim);
      drive(sim);
      const before = sim.saga;
      const d = sim.send({ type: 'attempt-succeeded', ...target, output: 1 } as EngineInput);
      expect(d.outcome).toBe('stale');
      expect(sim.saga).toBe(before);
    });

    it('should change nothing for a result after the saga paused', () => {
      const sim = new Sim(def([step('a')], 'pause'));
      sim.err();
      expect(sim.send({ type: 'attempt-succeeded', step: 0, phase: 'action', attempt: 1, output: 1 }).outcome).toBe('stale');
    });
  });

  describe('replay', () => {
    it('of a PAUSED saga should run the failed step again with a fresh budget and new attempt numbers, then go on', () => {
      const sim = new Sim(def([step('a'), step('b', { maxAttempts: 2 }), step('c')], 'pause'));
      sim.ok();
      sim.err({ retryable: true });
      sim.err({ retryable: true });
      expect(sim.view()).toMatchObject({ status: 'PAUSED', cursor: 1, attempt: 2 });
      const d = sim.send({ type: 'replay', reason: 'fixed the card service', by: 'ops' });
      expect(d.outcome).toBe('applied');
      expect(sim.view()).toMatchObject({ status: 'RUNNING', cursor: 1, phase: 'action', attempt: 3, attemptBase: 2, awaiting: true, error: null });
      expect(d.outcome === 'applied' && d.events[0]).toEqual({
        type: 'SagaReplayed',
        data: { fromStatus: 'PAUSED', run: 1, reason: 'fixed the card service', by: 'ops', step: 'b' },
      });
      // The fresh budget: two more attempts (3 and 4), not zero.
      sim.err({ retryable: true });
      expect(sim.view()).toMatchObject({ status: 'RUNNING', attempt: 4 });
      // A late result of an attempt made before the replay is stale.
      expect(sim.send({ type: 'attempt-succeeded', step: 1, phase: 'action', attempt: 2, output: 1 }).outcome).toBe('stale');
      sim.ok();
      sim.ok();
      expect(sim.saga.status).toBe('COMPLETED');
      expect(sim.dispatches()).toEqual(['a:action#1', 'b:action#1', 'b:action#2', 'b:action#3', 'b:action#4', 'c:action#1']);
    });

    it('of a PAUSED saga should pause again once the fresh budget is spent', () => {
      const sim = new Sim(def([step('a', { maxAttempts: 2 })], 'pause'));
      sim.err({ retryable: true });
      sim.err({ retryable: true });
      sim.send({ type: 'replay' });
      sim.err({ retryable: true });
      expect(sim.view()).toMatchObject({ status: 'RUNNING', attempt: 4 });
      sim.err({ retryable: true });
      expect(sim.saga.status).toBe('PAUSED');
      expect(sim.saga.error?.message).toContain('2 attempts since the last replay');
    });

    it('of a FAILED saga should retry the failed compensation with a fresh budget and go on in reverse order', () => {
      const sim = new Sim(def([step('a'), step('b', { maxAttempts: 1 }), step('c')]));
      sim.ok();
      sim.ok();
      sim.err(); // c fails: compensate b, then a
      sim.err(); // b's compensation fails for good (1 attempt)
      expect(sim.view()).toMatchObject({ status: 'FAILED', cursor: 1, phase: 'compensation' });
      expect(sim.saga.error).toMatchObject({ code: 'COMPENSATION_FAILED', cause: { code: 'STEP_FAILED', step: 'c' } });
      sim.send({ type: 'replay' });
      expect(sim.view()).toMatchObject({ status: 'COMPENSATING', cursor: 1, phase: 'compensation', attempt: 2, attemptBase: 1 });
      expect(sim.saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'c' });
      expect(sim.saga.steps[1]).toMatchObject({ status: 'COMPENSATING', compensationStatus: 'RUNNING', compensationAttempts: 2 });
      sim.ok();
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
      expect(sim.saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'c' });
      expect(sim.dispatches().slice(-3)).toEqual(['b:compensation#1', 'b:compensation#2', 'a:compensation#1']);
    });

    it('of a COMPENSATED saga should start a new run from the first step with every step reset and the new input', () => {
      const sim = new Sim(def([step('a'), step('b')]));
      sim.ok({ r: 1 });
      sim.err();
      sim.ok();
      expect(sim.saga.status).toBe('COMPENSATED');
      const d = sim.send({ type: 'replay', input: { orderId: 7 } });
      if (d.outcome !== 'applied') throw new Error('not applied');
      expect(d.saga).toMatchObject({ status: 'RUNNING', run: 2, error: null, finishedAt: null, input: { orderId: 7 }, resetResults: true });
      expect(d.results).toEqual({});
      expect(d.steps.get(1)).toMatchObject({ status: 'PENDING', attempts: 0, output: null, compensationStatus: null, startedAt: null });
      expect(d.steps.get(0)).toMatchObject({ status: 'RUNNING', attempts: 1, compensationStatus: null, compensationAttempts: 0 });
      expect(d.commands).toEqual([{ type: 'dispatch', step: 0, phase: 'action', attempt: 1, notBefore: null }]);
      expect(d.events[0]).toMatchObject({ type: 'SagaReplayed', data: { fromStatus: 'COMPENSATED', run: 2, previousRun: 1, newInput: true } });
      sim.ok();
      sim.ok();
      expect(sim.view()).toMatchObject({ status: 'COMPLETED', run: 2 });
    });

    it('should restart the saga deadline clock', () => {
      const sim = new Sim(def([step('a')], 'pause', 60_000));
      sim.err();
      const d = sim.send({ type: 'replay' });
      expect(d.outcome === 'applied' && d.saga.deadlineAt).toEqual(new Date(NOW.getTime() + 60_000));
    });

    it.each([
      ['RUNNING', () => undefined],
      ['COMPLETED', (s: Sim) => s.ok()],
      ['COMPENSATING', (s: Sim) => s.send({ type: 'cancel' })],
    ] as const)('should reject replay of a %s saga', (_status, drive) => {
      const sim = new Sim(def([step('a')]));
      drive(sim);
      const before = sim.saga;
      expect(sim.send({ type: 'replay' }).outcome).toBe('rejected');
      expect(sim.saga).toBe(before);
    });

    it('should reject a new input unless the saga is COMPENSATED', () => {
      const sim = new Sim(def([step('a')], 'pause'));
      sim.err();
      const d = sim.send({ type: 'replay', input: { x: 1 } });
      expect(d).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('only be given to a COMPENSATED saga') });
    });
  });
});
