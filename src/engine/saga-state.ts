import type { CompensationStatus, EventType, Phase, SagaErrorCode, SagaStatus, StepStatus } from './statuses.js';

/** Why a saga is compensating, compensated, paused or failed. */
export interface SagaError {
  code: SagaErrorCode;
  message: string;
  /** The step whose failure (or compensation failure) caused it. */
  step?: string;
  /** For COMPENSATION_FAILED: why compensation had started. */
  cause?: SagaError;
}

/** How one attempt failed, as classified by the worker that ran it. */
export interface AttemptFailure {
  /** Retried while attempts remain (timeouts, 5xx, 408/425/429, connection errors). */
  retryable: boolean;
  /** No answer within the attempt's timeout: the outcome is unknown. */
  timedOut: boolean;
  /** The worker did not call the participant at all (the saga was cancelled first). */
  skipped?: boolean;
  message: string;
  /** HTTP status, response body and the like, kept in the step's `error`. */
  details?: Record<string, unknown>;
}

export interface StepState {
  status: StepStatus;
  attempts: number;
  /** The last attempt made timed out: its outcome is unknown, so it is compensated. */
  lastAttemptTimedOut: boolean;
  compensationStatus: CompensationStatus | null;
  compensationAttempts: number;
}

/** What the engine needs to know about a saga to decide its next move. */
export interface SagaSnapshot {
  status: SagaStatus;
  run: number;
  /** Index of the step being run (RUNNING) or compensated (COMPENSATING), or where it stopped. */
  cursor: number;
  phase: Phase;
  /** Number of the outstanding attempt (1-based); 0 when none was made. */
  attempt: number;
  /** An attempt is dispatched and its outcome not yet applied. */
  awaiting: boolean;
  /** Set by cancel or deadline while a forward attempt was outstanding: compensate once it ends. */
  stopRequested: SagaError | null;
  error: SagaError | null;
  steps: StepState[];
}

export type EngineInput =
  | { type: 'start' }
  | { type: 'attempt-succeeded'; step: number; phase: Phase; attempt: number; output: unknown }
  | { type: 'attempt-failed'; step: number; phase: Phase; attempt: number; failure: AttemptFailure }
  | { type: 'cancel' }
  | { type: 'deadline' };

export interface DispatchCommand {
  type: 'dispatch';
  step: number;
  phase: Phase;
  attempt: number;
  /** Not before this time (a retry's backoff); null: at once. */
  notBefore: Date | null;
}

export type Command = DispatchCommand;

export interface HistoryEventDraft {
  type: EventType;
  step?: string;
  phase?: Phase;
  attempt?: number;
  data?: Record<string, unknown>;
}

/** Per-step changes; only the fields that change are present. */
export interface StepPatch {
  status?: StepStatus;
  attempts?: number;
  lastAttemptTimedOut?: boolean;
  startedAt?: Date;
  finishedAt?: Date;
  output?: unknown;
  error?: Record<string, unknown> | null;
  compensationStatus?: CompensationStatus;
  compensationAttempts?: number;
  compensationStartedAt?: Date;
  compensationFinishedAt?: Date;
  compensationError?: Record<string, unknown> | null;
}

export type SagaPatch = Partial<Pick<SagaSnapshot, 'status' | 'cursor' | 'phase' | 'attempt' | 'awaiting' | 'stopRequested' | 'error'>> & {
  finishedAt?: Date;
};

export type Decision =
  | {
      outcome: 'applied';
      saga: SagaPatch;
      steps: Map<number, StepPatch>;
      /** Outputs to merge into the saga's `results`, by step name. */
      results: Record<string, unknown>;
      events: HistoryEventDraft[];
      commands: Command[];
    }
  /** A stale, duplicate or late input (e.g. an attempt already timed out): nothing changes. */
  | { outcome: 'stale'; reason: string }
  /** An input the saga's status does not allow (e.g. cancel of a completed saga). */
  | { outcome: 'rejected'; reason: string };
