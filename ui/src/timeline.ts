/**
 * The run of a saga as bars in time order, from its history: one bar per
 * step attempt and per compensation attempt, and one per backoff wait before
 * a retry. Pure (no DOM), so it is unit tested on its own.
 */
import { EventType } from '../../src/engine/statuses.js';

export interface TimelineEvent {
  seq: number;
  run: number;
  type: string;
  step: string | null;
  phase: 'action' | 'compensation' | null;
  attempt: number | null;
  at: string;
  data: Record<string, unknown> | null;
}

export type BarOutcome = 'succeeded' | 'failed' | 'running' | 'wait';

export interface Bar {
  step: string;
  /** The parallel group of the step, and its branch (SPEC §8); null outside a group. */
  group: string | null;
  branch: number | null;
  phase: 'action' | 'compensation';
  attempt: number;
  kind: 'attempt' | 'wait';
  start: number;
  end: number;
  outcome: BarOutcome;
  /** The attempt's start is its retry's due time: the history records when a retry was scheduled, not when it was picked up. */
  estimatedStart: boolean;
  error: unknown;
}

export interface Timeline {
  start: number;
  end: number;
  bars: Bar[];
}

const STARTED = new Set<string>([EventType.StepStarted, EventType.CompensationStarted]);
const SUCCEEDED = new Set<string>([EventType.StepSucceeded, EventType.CompensationSucceeded]);
const FAILED = new Set<string>([EventType.StepFailed, EventType.CompensationFailed]);

/** Where a step's event puts it: a group's steps carry `group` and `branch` in `data`. */
function placeOf(e: TimelineEvent): { group: string | null; branch: number | null } {
  const group = typeof e.data?.group === 'string' ? e.data.group : null;
  const branch = typeof e.data?.branch === 'number' ? e.data.branch : null;
  return group === null ? { group: null, branch: null } : { group, branch };
}

/** A lane of the timeline: the bars of one branch of a group, or of the steps outside groups. */
export interface Lane {
  branch: number | null;
  bars: Bar[];
}

/**
 * Consecutive bars of one group (or outside any) form a section, in time
 * order: the steps before a group, the group running with one lane per
 * branch, the group unwinding branch by branch, then the steps before it
 * unwinding.
 */
export interface Section {
  group: string | null;
  phase: 'action' | 'compensation';
  lanes: Lane[];
}

export function sectionsOf(timeline: Timeline): Section[] {
  const sections: Section[] = [];
  for (const bar of timeline.bars) {
    let section = sections.at(-1);
    if (!section || section.group !== bar.group || (bar.group !== null && section.phase !== bar.phase)) {
      section = { group: bar.group, phase: bar.phase, lanes: [] };
      sections.push(section);
    }
    let lane = section.lanes.find((l) => l.branch === bar.branch);
    if (!lane) {
      lane = { branch: bar.branch, bars: [] };
      section.lanes.push(lane);
    }
    lane.bars.push(bar);
  }
  for (const section of sections) section.lanes.sort((a, b) => (a.branch ?? 0) - (b.branch ?? 0));
  return sections;
}

/** Runs present in a history, oldest first. */
export function runsOf(events: readonly TimelineEvent[]): number[] {
  return [...new Set(events.map((e) => e.run))].sort((a, b) => a - b);
}

export function buildTimeline(events: readonly TimelineEvent[], run: number, now: number): Timeline {
  const ofRun = events.filter((e) => e.run === run).sort((a, b) => a.seq - b.seq);
  const bars: Bar[] = [];
  const open = new Map<string, Bar>();
  const key = (step: string, phase: string, attempt: number) => `${phase}\u0000${step}\u0000${attempt}`;
  const begin = (e: TimelineEvent, start: number, estimatedStart: boolean) => {
    const bar: Bar = { step: e.step!, ...placeOf(e), phase: e.phase!, attempt: e.attempt!, kind: 'attempt', start, end: start, outcome: 'running', estimatedStart, error: null };
    bars.push(bar);
    open.set(key(bar.step, bar.phase, bar.attempt), bar);
  };

  for (const e of ofRun) {
    if (e.step === null || e.phase === null || e.attempt === null) continue;
    const at = Date.parse(e.at);
    if (STARTED.has(e.type)) {
      begin(e, at, false);
    } else if (e.type === EventType.StepRetryScheduled) {
      const due = at + Number(e.data?.delayMs ?? 0);
      bars.push({ step: e.step, ...placeOf(e), phase: e.phase, attempt: e.attempt, kind: 'wait', start: at, end: due, outcome: 'wait', estimatedStart: false, error: null });
      begin(e, due, true);
    } else if (SUCCEEDED.has(e.type) || FAILED.has(e.type)) {
      const k = key(e.step, e.phase, e.attempt);
      const bar = open.get(k);
      if (!bar) continue;
      open.delete(k);
      bar.end = Math.max(at, bar.start);
      // A retry picked up before its due time (e.g. a replay) ends before it "started": start at its end.
      if (bar.estimatedStart && at < bar.start) bar.start = at;
      bar.outcome = SUCCEEDED.has(e.type) ? 'succeeded' : 'failed';
      bar.error = FAILED.has(e.type) ? (e.data?.error ?? null) : null;
    }
  }

  // Attempts still open run until now; a retry not yet due is only its wait.
  const shown = bars.filter((bar) => {
    if (bar.outcome !== 'running') return true;
    if (bar.start > now) return false;
    bar.end = Math.max(now, bar.start);
    return true;
  });
  shown.sort((a, b) => a.start - b.start || (a.kind === 'wait' ? -1 : 1));
  const times = ofRun.map((e) => Date.parse(e.at));
  const start = Math.min(...times, ...shown.map((b) => b.start));
  const end = Math.max(...times, ...shown.map((b) => b.end));
  return { start: Number.isFinite(start) ? start : now, end: Number.isFinite(end) ? end : now, bars: shown };
}
