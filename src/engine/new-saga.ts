import type { SagaSnapshot } from './saga-state.js';
import { SagaStatus, StepStatus } from './statuses.js';

/** The snapshot of a saga run that has not started yet: every step PENDING, nothing outstanding. */
export function newSagaSnapshot(stepCount: number, saga: Pick<SagaSnapshot, 'id' | 'input' | 'correlationId'> = { id: '', input: {}, correlationId: null }): SagaSnapshot {
  return {
    ...saga,
    results: {},
    run: 1,
    status: SagaStatus.RUNNING,
    stopRequested: null,
    error: null,
    steps: Array.from({ length: stepCount }, () => ({
      status: StepStatus.PENDING,
      attempts: 0,
      lastAttemptTimedOut: false,
      compensationStatus: null,
      compensationAttempts: 0,
      awaiting: null,
      attemptBase: 0,
      waiting: null,
    })),
  };
}
