import { buildTimeline, runsOf, sectionsOf, type TimelineEvent } from '../../ui/src/timeline.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
let seq = 0;
function ev(type: string, ms: number, fields: Partial<TimelineEvent> = {}): TimelineEvent {
  return { seq: ++seq, run: 1, type, step: null, phase: null, attempt: null, at: new Date(T0 + ms).toISOString(), data: null, ...fields };
}
const act = (step: string, attempt = 1) => ({ step, phase: 'action' as const, attempt });
const comp = (step: string, attempt = 1) => ({ step, phase: 'compensation' as const, attempt });

describe('dashboard timeline (events → bars)', () => {
  beforeEach(() => (seq = 0));

  it('should draw forward steps, then compensations last-first, in time order', () => {
    const events = [
      ev('SagaStarted', 0),
      ev('StepStarted', 0, act('reserve')),
      ev('StepSucceeded', 10, act('reserve')),
      ev('StepStarted', 10, act('charge')),
      ev('StepSucceeded', 25, act('charge')),
      ev('StepStarted', 25, act('ship')),
      ev('StepFailed', 40, { ...act('ship'), data: { error: { message: 'no stock' } } }),
      ev('SagaCompensating', 40),
      ev('CompensationStarted', 40, comp('charge')),
      ev('CompensationSucceeded', 55, comp('charge')),
      ev('CompensationStarted', 55, comp('reserve')),
      ev('CompensationSucceeded', 60, comp('reserve')),
      ev('SagaCompensated', 60),
    ];
    const t = buildTimeline(events, 1, T0 + 1000);
    expect(t.bars.map((b) => `${b.phase}:${b.step}:${b.outcome}`)).toEqual([
      'action:reserve:succeeded',
      'action:charge:succeeded',
      'action:ship:failed',
      'compensation:charge:succeeded',
      'compensation:reserve:succeeded',
    ]);
    expect(t.bars.map((b) => [b.start - T0, b.end - T0])).toEqual([[0, 10], [10, 25], [25, 40], [40, 55], [55, 60]]);
    expect(t.bars[2].error).toEqual({ message: 'no stock' });
    expect([t.start - T0, t.end - T0]).toEqual([0, 60]);
  });

  it('should draw a failed attempt, its backoff and the retry that succeeded', () => {
    const events = [
      ev('StepStarted', 0, act('charge')),
      ev('StepFailed', 20, act('charge')),
      ev('StepRetryScheduled', 20, { ...act('charge', 2), data: { delayMs: 100 } }),
      ev('StepSucceeded', 150, act('charge', 2)),
    ];
    const bars = buildTimeline(events, 1, T0 + 1000).bars;
    expect(bars.map((b) => [b.kind, b.attempt, b.outcome, b.start - T0, b.end - T0, b.estimatedStart])).toEqual([
      ['attempt', 1, 'failed', 0, 20, false],
      ['wait', 2, 'wait', 20, 120, false],
      ['attempt', 2, 'succeeded', 120, 150, true],
    ]);
  });

  it('should run an open attempt until now, and leave out a retry that is not due yet', () => {
    const running = buildTimeline([ev('StepStarted', 0, act('ship'))], 1, T0 + 500).bars;
    expect(running.map((b) => [b.outcome, b.end - T0])).toEqual([['running', 500]]);

    const waiting = buildTimeline(
      [ev('StepStarted', 0, act('ship')), ev('StepFailed', 10, act('ship')), ev('StepRetryScheduled', 10, { ...act('ship', 2), data: { delayMs: 1000 } })],
      1,
      T0 + 200,
    );
    expect(waiting.bars.map((b) => `${b.kind}:${b.attempt}`)).toEqual(['attempt:1', 'wait:2']);
    expect(waiting.end - T0).toBe(1010);
  });

  it('should keep runs apart and list them', () => {
    const events = [
      ev('StepStarted', 0, act('a')),
      ev('StepFailed', 5, act('a')),
      ev('SagaReplayed', 100, { run: 2 }),
      ev('StepStarted', 100, { ...act('a'), run: 2 }),
      ev('StepSucceeded', 120, { ...act('a'), run: 2 }),
    ];
    expect(runsOf(events)).toEqual([1, 2]);
    expect(buildTimeline(events, 1, T0 + 1000).bars.map((b) => b.outcome)).toEqual(['failed']);
    const second = buildTimeline(events, 2, T0 + 1000);
    expect(second.bars.map((b) => [b.outcome, b.start - T0])).toEqual([['succeeded', 100]]);
    expect(second.start - T0).toBe(100);
  });

  it('should draw nothing for a run without steps', () => {
    expect(buildTimeline([ev('SagaStarted', 0)], 1, T0 + 5).bars).toEqual([]);
    expect(buildTimeline([], 1, T0).bars).toEqual([]);
  });

  it('should lay a group out as parallel lanes, one per branch, and its unwinding branch by branch before the steps before it', () => {
    const g = (branch: number) => ({ data: { group: 'prepare', branch } });
    const events = [
      ev('StepStarted', 0, act('reserve')),
      ev('StepSucceeded', 10, act('reserve')),
      ev('StepStarted', 10, { ...act('charge'), ...g(0) }),
      ev('StepStarted', 10, { ...act('book'), ...g(1) }),
      ev('StepSucceeded', 20, { ...act('charge'), ...g(0) }),
      ev('StepFailed', 30, { ...act('book'), data: { group: 'prepare', branch: 1, error: { message: 'no courier' } } }),
      ev('SagaCompensating', 30),
      ev('CompensationStarted', 30, { ...comp('charge'), ...g(0) }),
      ev('CompensationSucceeded', 40, { ...comp('charge'), ...g(0) }),
      ev('CompensationStarted', 40, comp('reserve')),
      ev('CompensationSucceeded', 45, comp('reserve')),
    ];
    const sections = sectionsOf(buildTimeline(events, 1, T0 + 1000));
    const shape = sections.map((s) => ({ group: s.group, phase: s.phase, lanes: s.lanes.map((l) => [l.branch, l.bars.map((b) => `${b.phase}:${b.step}`)]) }));
    expect(shape).toEqual([
      { group: null, phase: 'action', lanes: [[null, ['action:reserve']]] },
      { group: 'prepare', phase: 'action', lanes: [[0, ['action:charge']], [1, ['action:book']]] },
      { group: 'prepare', phase: 'compensation', lanes: [[0, ['compensation:charge']]] },
      { group: null, phase: 'compensation', lanes: [[null, ['compensation:reserve']]] },
    ]);
    // The branches overlap in time: that is what the lanes show.
    const [charge, book] = sections[1].lanes.map((l) => l.bars[0]);
    expect(charge.start).toBe(book.start);
  });
});
