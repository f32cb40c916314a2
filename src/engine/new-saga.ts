import type { SagaSnapshot } from './saga-state.js';
import { Phase, SagaStatus, StepStatus } from './statuses.js';

/** The snapshot of a saga run that has not started yet: every step PENDING. */
export function newSagaSnapshot(stepCount: number, run = 1): SagaSnapshot {
  return {
    status: SagaStatus.RUNNING,
    run,
    cursor: 0,
    phase: Phase.ACTION,
    attempt: 0,
    attemptBase: 0,
    awaiting: false,
    stopRequested: null,
    error: null,
    steps: Array.from({ length: stepCount }, () => ({
      status: StepStatus.PENDING,
      attempts: 0,
      lastAttemptTimedOut: false,
      compensationStatus: null,
      compensationAttempts: 0,
    })),
  };
}
