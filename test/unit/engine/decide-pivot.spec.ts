import { decide } from '../../../src/engine/decide.js';
import { def, group, NOW, Sim, step } from '../../support/engine-sim.js';

/** SPEC §9: pivot and retriable steps, driven through the engine one outcome at a time. */
describe(`${decide.name}: pivot and retriable steps`, () => {
  /** reserve → charge (pivot) → ship (retriable) → notify (retriable, 2 attempts) */
  const order = (timeoutMs: number | null = null) =>
    def(
      [step('reserve'), step('charge', { kind: 'pivot', maxAttempts: 2 }), step('ship', { kind: 'retriable' }), step('notify', { kind: 'retriable', maxAttempts: 2 })],
      'compensate',
      timeoutMs,
    );
  const pastPivot = (sim: Sim) => {
    sim.ok({}, 'reserve');
    sim.ok({ chargeId: 'ch-1' }, 'charge');
    expect(sim.outstanding()).toEqual(['ship:action#1']);
  };

  it('should compensate the steps before a pivot that fails for good', () => {
    const sim = new Sim(order());
    sim.ok({}, 'reserve');
    sim.err({ retryable: false, details: { status: 402 } }, 'charge');
    expect(sim.outstanding()).toEqual(['reserve:compensation#1']);
    sim.ok({}, 'reserve');
    expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'charge' } });
  });

  describe('a pivot whose final attempt timed out', () => {
    const unknown = () => {
      const sim = new Sim(order());
      sim.ok({}, 'reserve');
      sim.err({ retryable: true, timedOut: true }, 'charge');
      sim.err({ retryable: true, timedOut: true }, 'charge');
      return sim;
    };

    it('should pause with PIVOT_OUTCOME_UNKNOWN and compensate nothing', () => {
      const sim = unknown();
      expect(sim.saga).toMatchObject({ status: 'PAUSED', error: { code: 'PIVOT_OUTCOME_UNKNOWN', step: 'charge' } });
      expect(sim.dispatches().filter((d) => d.includes('compensation'))).toEqual([]);
      expect(sim.events().at(-1)).toBe('SagaPaused(charge)');
    });

    it('should retry the pivot on replay with a fresh budget, then go forward', () => {
      const sim = unknown();
      sim.send({ type: 'replay' });
      expect(sim.outstanding()).toEqual(['charge:action#3']);
      sim.ok({}, 'charge');
      expect(sim.outstanding()).toEqual(['ship:action#1']);
    });

    it('should compensate the steps before it on cancel (the pivot has no compensation)', () => {
      const sim = unknown();
      expect(sim.send({ type: 'cancel' }).outcome).toBe('applied');
      expect(sim.outstanding()).toEqual(['reserve:compensation#1']);
      sim.ok({}, 'reserve');
      expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'CANCELLED' } });
    });
  });

  describe('past the pivot', () => {
    it('should refuse cancel with PAST_PIVOT and change nothing', () => {
      const sim = new Sim(order());
      pastPivot(sim);
      const before = sim.saga;
      expect(sim.send({ type: 'cancel' })).toMatchObject({ outcome: 'rejected', code: 'PAST_PIVOT', reason: expect.stringContaining('"charge"') });
      expect(sim.saga).toBe(before);
    });

    it('should no longer apply the saga deadline: cleared when the pivot succeeds, and a late one ignored', () => {
      const sim = new Sim(order(60_000));
      expect(sim.log[0].outcome === 'applied' && sim.log[0].saga.deadlineAt).toEqual(new Date(NOW.getTime() + 60_000));
      sim.ok({}, 'reserve');
      const pivot = sim.ok({}, 'charge');
      expect(pivot.outcome === 'applied' && pivot.saga.deadlineAt).toBeNull();
      expect(sim.send({ type: 'deadline' })).toMatchObject({ outcome: 'stale' });
      expect(sim.saga.status).toBe('RUNNING');
    });

    it('should retry a retriable step without limit by default', () => {
      const sim = new Sim(order());
      pastPivot(sim);
      for (let i = 1; i <= 150; i++) sim.err({ retryable: true, timedOut: i % 2 === 0 }, 'ship');
      expect(sim.outstanding()).toEqual(['ship:action#151']);
      // The backoff stays capped at maxDelayMs.
      const last = sim.log.at(-1)!;
      expect(last.outcome === 'applied' && last.commands[0].notBefore).toEqual(new Date(NOW.getTime() + 10_000));
      sim.ok({}, 'ship');
      expect(sim.outstanding()).toEqual(['notify:action#1']);
    });

    it.each([
      ['a permanent error', (sim: Sim) => sim.err({ retryable: false, details: { status: 400 } }, 'ship')],
      [
        'its explicit maxAttempts spent',
        (sim: Sim) => {
          sim.ok({}, 'ship');
          sim.err({ retryable: true }, 'notify');
          sim.err({ retryable: true, timedOut: true }, 'notify');
        },
      ],
    ])('should pause with RETRIABLE_STEP_FAILED on %s, never compensating, and replay it with a fresh budget', (_label, failForGood) => {
      const sim = new Sim(order());
      pastPivot(sim);
      failForGood(sim);
      expect(sim.saga).toMatchObject({ status: 'PAUSED', error: { code: 'RETRIABLE_STEP_FAILED' } });
      expect(sim.dispatches().filter((d) => d.includes('compensation'))).toEqual([]);
      expect(sim.send({ type: 'cancel' })).toMatchObject({ outcome: 'rejected', code: 'PAST_PIVOT' });
      sim.send({ type: 'replay' });
      expect(sim.saga.status).toBe('RUNNING');
      const failed = sim.outstanding()[0];
      expect(failed).toMatch(/^(ship|notify):action#/);
      while (sim.saga.status === 'RUNNING') sim.ok({});
      expect(sim.saga.status).toBe('COMPLETED');
    });

    it('should pause even when the definition compensates on failure, and run a group of retriable steps forward', () => {
      const sim = new Sim(def([step('a'), step('p', { kind: 'pivot' }), group('g', [step('r1', { kind: 'retriable', maxAttempts: 1 })], [step('r2', { kind: 'retriable' })])]));
      sim.ok({}, 'a');
      sim.ok({}, 'p');
      expect(sim.outstanding()).toEqual(['r1:action#1', 'r2:action#1']);
      sim.err({ retryable: false }, 'r1');
      // r2 is in flight: it finishes first, then the saga pauses.
      expect(sim.saga).toMatchObject({ status: 'RUNNING', stopRequested: { code: 'RETRIABLE_STEP_FAILED', step: 'r1' } });
      sim.ok({}, 'r2');
      expect(sim.saga).toMatchObject({ status: 'PAUSED', error: { code: 'RETRIABLE_STEP_FAILED', step: 'r1' } });
      sim.send({ type: 'replay' });
      sim.ok({}, 'r1');
      expect(sim.saga.status).toBe('COMPLETED');
    });
  });

  describe('without a pivot, the first retriable step is the point of no return', () => {
    const plain = () => def([step('a'), step('r1', { kind: 'retriable', maxAttempts: 2 }), step('r2', { kind: 'retriable' })]);

    it('should compensate the steps before it when it fails for good, and refuse cancel once it succeeded', () => {
      const failing = new Sim(plain());
      failing.ok({}, 'a');
      failing.err({ retryable: false }, 'r1');
      expect(failing.outstanding()).toEqual(['a:compensation#1']);

      const passing = new Sim(plain());
      passing.ok({}, 'a');
      passing.ok({}, 'r1');
      expect(passing.send({ type: 'cancel' })).toMatchObject({ outcome: 'rejected', code: 'PAST_PIVOT' });
    });
  });

  describe('cancel or deadline while the pivot is in flight', () => {
    const inFlight = () => {
      const sim = new Sim(order());
      sim.ok({}, 'reserve');
      expect(sim.send({ type: 'cancel', by: 'ops' }).outcome).toBe('applied');
      expect(sim.saga).toMatchObject({ status: 'COMPENSATING', stopRequested: { code: 'CANCELLED' } });
      return sim;
    };

    it('should give way to a pivot that succeeds: the saga goes on forward', () => {
      const sim = inFlight();
      sim.ok({}, 'charge');
      expect(sim.saga).toMatchObject({ status: 'RUNNING', error: null, stopRequested: null });
      expect(sim.events().slice(-3)).toEqual(['StepSucceeded(charge)', 'SagaStopOverruled', 'StepStarted(ship)']);
      sim.ok({}, 'ship');
      sim.ok({}, 'notify');
      expect(sim.saga.status).toBe('COMPLETED');
    });

    it('should pause with PIVOT_OUTCOME_UNKNOWN when it times out (not retried), keeping the cancel as the cause', () => {
      const sim = inFlight();
      sim.err({ retryable: true, timedOut: true }, 'charge');
      expect(sim.saga).toMatchObject({ status: 'PAUSED', error: { code: 'PIVOT_OUTCOME_UNKNOWN', cause: { code: 'CANCELLED' } } });
      expect(sim.dispatches()).not.toContain('charge:action#2');
    });

    it('should compensate the steps before a pivot that failed cleanly', () => {
      const sim = inFlight();
      sim.err({ retryable: false }, 'charge');
      expect(sim.outstanding()).toEqual(['reserve:compensation#1']);
    });
  });
});
