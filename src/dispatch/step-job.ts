import type { DispatchCommand, EngineInput } from '../engine/saga-state.js';
import { waitsForOutside } from '../definitions/definition.model.js';
import type { SagaPlan } from '../definitions/saga-plan.js';
import { Phase } from '../engine/statuses.js';

/** The internal queue every step attempt goes through (HTTP calls run there; queue steps are forwarded). */
export const STEPS_QUEUE = 'saga-steps';
/** Delayed jobs that end an attempt whose outcome comes from elsewhere (a queue step, a callback, a signal) when none came within its timeout. */
export const TIMERS_QUEUE = 'saga-timers';

export interface StepJobData {
  sagaId: string;
  run: number;
  step: number;
  phase: Phase;
  attempt: number;
  /**
   * A queue, callback or signal step's attempt: its deadline as the
   * dispatching transaction stored it (due time + timeoutMs). Absent for
   * other HTTP attempts and for jobs the reconciler re-publishes (the stored
   * one is kept then).
   */
  deadline?: string;
}

/** A job to publish, as stored in an outbox row. */
export interface StepJob {
  queue: typeof STEPS_QUEUE;
  /** Deterministic (no ':'), so publishing the same job twice adds it once. */
  jobId: string;
  data: StepJobData;
  /** ISO time before which the job must not run (a retry's backoff), or null. */
  notBefore: string | null;
}

/** Jobs kept after they finish: an hour once done, a week once failed (to look into); each runs once. */
export const KEEP_FINISHED_JOBS = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 } as const;

/** The id of the timer job that ends an attempt at its deadline (timers queue). */
export function timerJobId(d: StepJobData): string {
  return `timeout.${stepJobId(d)}`;
}

/** The id of an attempt's job, on the steps queue and on a participant's queue alike. */
export function stepJobId(d: StepJobData): string {
  return `${d.sagaId}.${d.run}.${d.step}.${d.phase}.${d.attempt}`;
}

/**
 * The job of a dispatched attempt. With the definition, an attempt whose
 * outcome comes from elsewhere (a queue step, ADR 10; a callback or signal
 * step, ADR 13) gets its deadline: from when it is due (now, or after its
 * backoff) plus the step's timeout, stored by the transaction that
 * dispatches it.
 */
export function stepJob(sagaId: string, run: number, command: DispatchCommand, definition?: SagaPlan, now?: Date): StepJob {
  const data: StepJobData = { sagaId, run, step: command.step, phase: command.phase, attempt: command.attempt };
  const step = definition?.steps[command.step];
  const action = command.phase === Phase.ACTION ? step?.action : step?.compensation;
  if (step && (action?.type === 'queue' || waitsForOutside(action)) && now) {
    const due = Math.max(now.getTime(), command.notBefore?.getTime() ?? 0);
    data.deadline = new Date(due + step.timeoutMs).toISOString();
  }
  return {
    queue: STEPS_QUEUE,
    jobId: stepJobId(data),
    data,
    notBefore: command.notBefore?.toISOString() ?? null,
  };
}

/** What ends an attempt at its deadline (its timer job, or the reconciler): the engine says what that means for the step. */
export function attemptTimedOut(address: StepJobData): EngineInput {
  return { type: 'attempt-timed-out', step: address.step, phase: address.phase, attempt: address.attempt };
}
