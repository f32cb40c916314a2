/** Saga statuses of SPEC §2, and their traits in one table. */
export const SagaStatus = {
  RUNNING: 'RUNNING',
  COMPLETED: 'COMPLETED',
  COMPENSATING: 'COMPENSATING',
  COMPENSATED: 'COMPENSATED',
  PAUSED: 'PAUSED',
  FAILED: 'FAILED',
} as const;
export type SagaStatus = (typeof SagaStatus)[keyof typeof SagaStatus];

interface SagaStatusTraits {
  /** Never changes again (replay of COMPENSATED starts a new run, which is a new life). */
  terminal: boolean;
  /** Work is in flight; the reconciler watches it (its SQL names these statuses literally, to match the partial indexes). */
  active: boolean;
}

export const SAGA_STATUS_TRAITS: Record<SagaStatus, SagaStatusTraits> = {
  RUNNING: { terminal: false, active: true },
  COMPENSATING: { terminal: false, active: true },
  COMPLETED: { terminal: true, active: false },
  COMPENSATED: { terminal: true, active: false },
  PAUSED: { terminal: false, active: false },
  FAILED: { terminal: false, active: false },
};

/** A saga has settled when nothing more happens without a person: terminal, PAUSED or FAILED. */
export function isSettled(status: SagaStatus): boolean {
  return !SAGA_STATUS_TRAITS[status].active;
}

/** What replay accepts (SPEC §5): PAUSED and FAILED resume, COMPENSATED starts a new run. */
export const REPLAYABLE_STATUSES = [SagaStatus.PAUSED, SagaStatus.FAILED, SagaStatus.COMPENSATED] as const;

export const StepStatus = {
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  COMPENSATING: 'COMPENSATING',
  COMPENSATED: 'COMPENSATED',
  COMPENSATION_FAILED: 'COMPENSATION_FAILED',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** Status of a step's compensation, shown as `compensation.status`. */
export const CompensationStatus = {
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
} as const;
export type CompensationStatus = (typeof CompensationStatus)[keyof typeof CompensationStatus];

export const Phase = { ACTION: 'action', COMPENSATION: 'compensation' } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** `error.code` of a saga that is compensating, compensated, paused or failed. */
export const SagaErrorCode = {
  STEP_FAILED: 'STEP_FAILED',
  CANCELLED: 'CANCELLED',
  SAGA_TIMEOUT: 'SAGA_TIMEOUT',
  COMPENSATION_FAILED: 'COMPENSATION_FAILED',
  /** SPEC §9: the pivot's final attempt timed out; its outcome cannot be undone, so the saga pauses. */
  PIVOT_OUTCOME_UNKNOWN: 'PIVOT_OUTCOME_UNKNOWN',
  /** SPEC §9: past the pivot, a retriable step failed for good; the saga pauses and never compensates. */
  RETRIABLE_STEP_FAILED: 'RETRIABLE_STEP_FAILED',
} as const;
export type SagaErrorCode = (typeof SagaErrorCode)[keyof typeof SagaErrorCode];

/** History event types of SPEC §4. */
export const EventType = {
  SagaStarted: 'SagaStarted',
  StepStarted: 'StepStarted',
  StepSucceeded: 'StepSucceeded',
  StepFailed: 'StepFailed',
  StepRetryScheduled: 'StepRetryScheduled',
  CompensationStarted: 'CompensationStarted',
  CompensationSucceeded: 'CompensationSucceeded',
  CompensationFailed: 'CompensationFailed',
  SagaCompleted: 'SagaCompleted',
  SagaCompensating: 'SagaCompensating',
  SagaCompensated: 'SagaCompensated',
  SagaPaused: 'SagaPaused',
  SagaFailed: 'SagaFailed',
  SagaCancelled: 'SagaCancelled',
  SagaTimedOut: 'SagaTimedOut',
  SagaReplayed: 'SagaReplayed',
  /** A cancel or deadline waited for the pivot's attempt, which succeeded: past the pivot the saga only goes forward. */
  SagaStopOverruled: 'SagaStopOverruled',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];
