import type { DispatchCommand } from '../engine/saga-state.js';
import type { Phase } from '../engine/statuses.js';

/** The internal queue every step attempt goes through (HTTP calls run there; queue steps are forwarded). */
export const STEPS_QUEUE = 'saga-steps';

export interface StepJobData {
  sagaId: string;
  run: number;
  step: number;
  phase: Phase;
  attempt: number;
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

export function stepJob(sagaId: string, run: number, command: DispatchCommand): StepJob {
  const data: StepJobData = { sagaId, run, step: command.step, phase: command.phase, attempt: command.attempt };
  return {
    queue: STEPS_QUEUE,
    jobId: `${sagaId}.${run}.${command.step}.${command.phase}.${command.attempt}`,
    data,
    notBefore: command.notBefore?.toISOString() ?? null,
  };
}
