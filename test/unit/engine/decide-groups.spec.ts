import { decide } from '../../../src/engine/decide.js';
import { def, group, Sim, step } from '../../support/engine-sim.js';

/** SPEC §8: parallel groups, driven through the engine one outcome at a time. */
describe(`${decide.name}: parallel groups`, () => {
  /** before → group g [a1 → a2 | b1] → after */
  const shop = (onStepFailure: 'compensate' | 'pause' = 'compensate', opts: { b1MaxAttempts?: number } = {}) =>
    def([step('before'), group('g', [step('a1'), step('a2')], [step('b1', { maxAttempts: opts.b1MaxAttempts ?? 3 })]), step('after')], onStepFailure);

  const intoGroup = (sim: Sim) => {
    sim.ok({ v: 'before' });
    expect(sim.outstanding()).toEqual(['a1:action#1', 'b1:action#1']);
  };

  it('should start every branch at once when the steps before succeed, and the next step once every branch has', () => {
    const sim = new Sim(shop());
    intoGroup(sim);
    sim.ok({ v: 'b1' }, 'b1');
    expect(sim.outstanding()).toEqual(['a1:action#1']);
    sim.ok({ v: 'a1' }, 'a1');
    expect(sim.outstanding()).toEqual(['a2:action#1']);
    sim.ok({ v: 'a2' }, 'a2');
    expect(sim.outstanding()).toEqual(['after:action#1']);
    sim.ok();
    expect(sim.saga.status).toBe('COMPLETED');
    expect(sim.dispatches()).toEqual(['before:action#1', 'a1:action#1', 'b1:action#1', 'a2:action#1', 'after:action#1']);
  });

  it('should put group and branch in the data of every event of a group step, and nothing extra outside', () => {
    const sim = new Sim(shop());
    intoGroup(sim);
    const started = sim.log.at(-1)!;
    if (started.outcome !== 'applied') throw new Error('not applied');
    expect(started.events).toEqual([
      { type: 'StepSucceeded', step: 'before', phase: 'action', attempt: 1 },
      { type: 'StepStarted', step: 'a1', phase: 'action', attempt: 1, data: { group: 'g', branch: 0 } },
      { type: 'StepStarted', step: 'b1', phase: 'action', attempt: 1, data: { group: 'g', branch: 1 } },
    ]);
    const failed = sim.err({ retryable: true }, 'b1');
    expect(failed.outcome === 'applied' && failed.events.map((e) => e.data)).toEqual([
      { group: 'g', branch: 1, error: expect.objectContaining({ message: 'boom' }) },
      { group: 'g', branch: 1, delayMs: 100 },
    ]);
  });

  it('should keep each branch\'s retries to itself: a retry in one branch does not touch the other', () => {
    const sim = new Sim(shop());
    intoGroup(sim);
    sim.err({ retryable: true }, 'b1');
    expect(sim.outstanding()).toEqual(['a1:action#1', 'b1:action#2']);
    sim.ok({}, 'a1');
    expect(sim.outstanding()).toEqual(['a2:action#1', 'b1:action#2']);
    sim.ok({}, 'b1');
    sim.ok({}, 'a2');
    expect(sim.outstanding()).toEqual(['after:action#1']);
    expect(sim.saga.steps[sim.index('a1')].attempts).toBe(1);
  });

  describe('a branch failing for good', () => {
    it('while a sibling is in flight: starts nothing new, waits for the sibling, then compensates each branch in reverse, then the steps before', () => {
      const sim = new Sim(shop());
      intoGroup(sim);
      sim.ok({}, 'a1'); // a2 starts
      sim.err({ retryable: false }, 'b1');
      // a2 is in flight: nothing is compensated yet, nothing new starts.
      expect(sim.saga).toMatchObject({ status: 'COMPENSATING', stopRequested: { code: 'STEP_FAILED', step: 'b1' } });
      expect(sim.outstanding()).toEqual(['a2:action#1']);
      sim.ok({}, 'a2');
      // a2 is undone first (reverse within its branch); b1 failed cleanly, so its branch has nothing to undo.
      expect(sim.outstanding()).toEqual(['a2:compensation#1']);
      sim.ok({}, 'a2');
      expect(sim.outstanding()).toEqual(['a1:compensation#1']);
      sim.ok({}, 'a1');
      // The whole group is undone: now the step before it.
      expect(sim.outstanding()).toEqual(['before:compensation#1']);
      sim.ok({}, 'before');
      expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'b1' } });
      expect(sim.dispatches().filter((d) => d.includes('compensation'))).toEqual(['a2:compensation#1', 'a1:compensation#1', 'before:compensation#1']);
      expect(sim.dispatches()).not.toContain('after:action#1');
    });

    it('while a sibling waits on a backoff: the retry is not made (reported skipped), and compensation follows', () => {
      const sim = new Sim(shop());
      intoGroup(sim);
      sim.err({ retryable: true, timedOut: true }, 'a1'); // a1 #2 waits for its backoff
      sim.err({ retryable: false }, 'b1');
      expect(sim.outstanding()).toEqual(['a1:action#2']);
      // The runner does not call a participant once the saga is stopping: it reports the attempt as skipped.
      sim.err({ retryable: false, skipped: true, message: 'Not attempted: the saga was stopped first.' }, 'a1');
      // a1's last real attempt timed out: its outcome is unknown, so it is compensated.
      expect(sim.saga.steps[sim.index('a1')]).toMatchObject({ status: 'COMPENSATING', lastAttemptTimedOut: true });
      expect(sim.outstanding()).toEqual(['a1:compensation#1']);
    });

    it('with a final timeout (unknown outcome): that step is compensated, as the steps that succeeded', () => {
      const sim = new Sim(shop('compensate', { b1MaxAttempts: 1 }));
      intoGroup(sim);
      sim.ok({}, 'a1');
      sim.ok({}, 'a2');
      sim.err({ retryable: true, timedOut: true }, 'b1');
      // Both branches are undone at once: a2 (branch 0, in reverse) and b1 (branch 1).
      expect(sim.outstanding()).toEqual(['a2:compensation#1', 'b1:compensation#1']);
      sim.ok({}, 'b1');
      expect(sim.outstanding()).toEqual(['a2:compensation#1']);
      sim.ok({}, 'a2');
      expect(sim.outstanding()).toEqual(['a1:compensation#1']);
      sim.ok({}, 'a1');
      sim.ok({}, 'before');
      expect(sim.saga.status).toBe('COMPENSATED');
    });

    it('should not start the steps before the group until every branch is compensated', () => {
      const sim = new Sim(shop('compensate', { b1MaxAttempts: 1 }));
      intoGroup(sim);
      sim.ok({}, 'a1');
      sim.ok({}, 'a2');
      sim.err({ retryable: true, timedOut: true }, 'b1');
      sim.ok({}, 'a2');
      sim.ok({}, 'a1');
      // Branch 0 is undone, b1's compensation is still running: "before" waits.
      expect(sim.outstanding()).toEqual(['b1:compensation#1']);
      sim.ok({}, 'b1');
      expect(sim.outstanding()).toEqual(['before:compensation#1']);
    });
  });

  describe('a compensation failing in a branch', () => {
    it('should let the other branches go on, hold the steps before, end FAILED, and replay every failed compensation', () => {
      const sim = new Sim(def([step('before'), group('g', [step('a1', { maxAttempts: 1 })], [step('b1', { maxAttempts: 1 })], [step('c1')]), step('after')]));
      sim.ok({}, 'before');
      sim.ok({}, 'a1');
      sim.ok({}, 'b1');
      sim.err({ retryable: false }, 'c1');
      expect(sim.outstanding()).toEqual(['a1:compensation#1', 'b1:compensation#1']);
      sim.err({ retryable: true, message: 'refund service down' }, 'a1');
      // a1's compensation failed for good (1 attempt); b1's goes on.
      expect(sim.saga).toMatchObject({ status: 'COMPENSATING', error: { code: 'COMPENSATION_FAILED', step: 'a1', cause: { code: 'STEP_FAILED', step: 'c1' } } });
      expect(sim.outstanding()).toEqual(['b1:compensation#1']);
      sim.ok({}, 'b1');
      // Nothing else can move: "before" waits for the group.
      expect(sim.saga.status).toBe('FAILED');
      expect(sim.outstanding()).toEqual([]);
      expect(sim.events().at(-1)).toBe('SagaFailed(a1)');
      sim.send({ type: 'replay' });
      expect(sim.saga).toMatchObject({ status: 'COMPENSATING', error: { code: 'STEP_FAILED', step: 'c1' } });
      expect(sim.outstanding()).toEqual(['a1:compensation#2']);
      sim.ok({}, 'a1');
      sim.ok({}, 'before');
      expect(sim.saga.status).toBe('COMPENSATED');
    });

    it('should replay every compensation that failed for good, in every branch', () => {
      const sim = new Sim(def([group('g', [step('a1', { maxAttempts: 1 })], [step('b1', { maxAttempts: 1 })], [step('c1')])]));
      sim.ok({}, 'a1');
      sim.ok({}, 'b1');
      sim.err({}, 'c1');
      sim.err({}, 'a1');
      sim.err({}, 'b1');
      expect(sim.saga.status).toBe('FAILED');
      const d = sim.send({ type: 'replay' });
      expect(d.outcome === 'applied' && d.events[0].data).toMatchObject({ fromStatus: 'FAILED', steps: ['a1', 'b1'] });
      expect(sim.outstanding()).toEqual(['a1:compensation#2', 'b1:compensation#2']);
    });
  });

  describe('pause', () => {
    it('should pause once nothing is in flight, and replay every failed step with a fresh budget while the other branches resume', () => {
      const sim = new Sim(def([group('g', [step('a1'), step('a2')], [step('b1', { maxAttempts: 1 })], [step('c1', { maxAttempts: 1 })])], 'pause'));
      sim.err({}, 'b1');
      // a1 and c1 are in flight: RUNNING, but nothing new starts.
      expect(sim.saga).toMatchObject({ status: 'RUNNING', stopRequested: { code: 'STEP_FAILED', step: 'b1' } });
      sim.ok({}, 'a1');
      expect(sim.outstanding()).toEqual(['c1:action#1']);
      sim.err({}, 'c1');
      expect(sim.saga).toMatchObject({ status: 'PAUSED', stopRequested: null, error: { code: 'STEP_FAILED', step: 'b1' } });
      expect(sim.events().at(-1)).toBe('SagaPaused(b1)');
      const d = sim.send({ type: 'replay' });
      expect(d.outcome === 'applied' && d.events[0].data).toMatchObject({ steps: ['b1', 'c1'] });
      // b1 and c1 again (fresh budgets), and a2, where branch 0 stopped.
      expect(sim.outstanding()).toEqual(['a2:action#1', 'b1:action#2', 'c1:action#2']);
      expect(sim.saga.steps[sim.index('b1')]).toMatchObject({ attemptBase: 1, status: 'RUNNING' });
      sim.ok({}, 'a2');
      sim.ok({}, 'b1');
      sim.ok({}, 'c1');
      expect(sim.saga.status).toBe('COMPLETED');
    });
  });

  describe.each([
    ['cancel', 'CANCELLED', 'SagaCancelled'],
    ['deadline', 'SAGA_TIMEOUT', 'SagaTimedOut'],
  ] as const)('%s during a group', (type, code, event) => {
    it('should start nothing new, wait for the attempts in flight, and compensate what they did', () => {
      const sim = new Sim(shop());
      intoGroup(sim);
      sim.ok({}, 'a1'); // a2 starts
      const d = sim.send({ type });
      expect(d.outcome === 'applied' && d.events).toEqual([{ type: event, data: expect.objectContaining({ error: expect.objectContaining({ code }), waitingFor: ['a2', 'b1'] }) }]);
      expect(sim.saga).toMatchObject({ status: 'COMPENSATING', stopRequested: { code } });
      sim.ok({}, 'b1');
      expect(sim.outstanding()).toEqual(['a2:action#1']);
      // An attempt in flight that times out is an unknown outcome: compensated too.
      sim.err({ retryable: true, timedOut: true }, 'a2');
      expect(sim.outstanding()).toEqual(['a2:compensation#1', 'b1:compensation#1']);
      sim.ok({}, 'a2');
      sim.ok({}, 'b1');
      sim.ok({}, 'a1');
      sim.ok({}, 'before');
      expect(sim.saga).toMatchObject({ status: 'COMPENSATED', error: { code } });
      expect(sim.dispatches()).not.toContain('a2:action#2');
    });
  });

  it('should call a late result of a branch attempt already retried stale, and keep the other branch outstanding', () => {
    const sim = new Sim(shop());
    intoGroup(sim);
    sim.err({ retryable: true }, 'b1');
    const before = sim.saga;
    const d = sim.send({ type: 'attempt-succeeded', step: sim.index('b1'), phase: 'action', attempt: 1, output: 1 });
    expect(d).toMatchObject({ outcome: 'stale', reason: expect.stringContaining('is not outstanding') });
    expect(sim.saga).toBe(before);
    expect(sim.outstanding()).toEqual(['a1:action#1', 'b1:action#2']);
  });
});
