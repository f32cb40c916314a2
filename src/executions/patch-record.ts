import type { HistoryEventDraft, SagaPatch, StepPatch } from '../engine/saga-state.js';
import type { StepJob } from '../dispatch/step-job.js';
import type { SagaRecord, StepRecord } from './saga.repository.js';

const iso = (value: Date | null | undefined): string | null => (value ? value.toISOString() : null);

/** A decision as it is stored: the engine's patches and history, the jobs it dispatches, and when. */
export interface Transition {
  saga: SagaPatch;
  steps: Map<number, StepPatch>;
  /** Outputs to merge into the saga's `results`, by step name. */
  results: Record<string, unknown>;
  events: HistoryEventDraft[];
  jobs: StepJob[];
  now: Date;
}

/**
 * The saga as the guarded update stores it (`UPDATE_SQL` in saga.repository):
 * a field present in the patch is set, an absent one kept; results merge
 * (or are replaced for a new run); version and next_seq move on. Lets the
 * process that wrote a transition run the next attempt without reading the
 * saga back.
 */
export function patchRecord(record: SagaRecord, { saga, steps, results, events, jobs, now }: Transition): SagaRecord {
  const has = (key: keyof SagaPatch) => Object.prototype.hasOwnProperty.call(saga, key) && saga[key] !== undefined;
  return {
    ...record,
    status: saga.status ?? record.status,
    run: saga.run ?? record.run,
    input: has('input') ? saga.input : record.input,
    attemptBase: saga.attemptBase ?? record.attemptBase,
    deadlineAt: has('deadlineAt') ? (saga.deadlineAt ?? null) : record.deadlineAt,
    cursor: saga.cursor ?? record.cursor,
    phase: saga.phase ?? record.phase,
    attempt: saga.attempt ?? record.attempt,
    awaiting: saga.awaiting ?? record.awaiting,
    stopRequested: has('stopRequested') ? (saga.stopRequested ?? null) : record.stopRequested,
    error: has('error') ? (saga.error ?? null) : record.error,
    results: saga.resetResults ? { ...results } : { ...record.results, ...results },
    finishedAt: has('finishedAt') ? (saga.finishedAt ?? null) : record.finishedAt,
    notBefore: jobs.length > 0 ? (jobs[0].notBefore ? new Date(jobs[0].notBefore) : null) : record.notBefore,
    circuitWait: null,
    version: record.version + 1,
    nextSeq: record.nextSeq + events.length,
    updatedAt: now,
    steps: record.steps.map((step) => {
      const p = steps.get(step.index);
      return p ? patchStep(step, p) : step;
    }),
  };
}

function patchStep(step: StepRecord, p: StepPatch): StepRecord {
  const has = (key: keyof StepPatch) => Object.prototype.hasOwnProperty.call(p, key) && p[key] !== undefined;
  return {
    ...step,
    status: p.status ?? step.status,
    attempts: p.attempts ?? step.attempts,
    lastAttemptTimedOut: p.lastAttemptTimedOut ?? step.lastAttemptTimedOut,
    startedAt: has('startedAt') ? iso(p.startedAt) : step.startedAt,
    finishedAt: has('finishedAt') ? iso(p.finishedAt) : step.finishedAt,
    output: has('output') ? p.output : step.output,
    error: has('error') ? (p.error ?? null) : step.error,
    compensationStatus: has('compensationStatus') ? (p.compensationStatus ?? null) : step.compensationStatus,
    compensationAttempts: p.compensationAttempts ?? step.compensationAttempts,
    compensationStartedAt: has('compensationStartedAt') ? iso(p.compensationStartedAt) : step.compensationStartedAt,
    compensationFinishedAt: has('compensationFinishedAt') ? iso(p.compensationFinishedAt) : step.compensationFinishedAt,
    compensationError: has('compensationError') ? (p.compensationError ?? null) : step.compensationError,
  };
}
