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
  /** Action attempts made (the outstanding action attempt's number while one is). */
  attempts: number;
  /** The last attempt made timed out: its outcome is unknown, so it is compensated. */
  lastAttemptTimedOut: boolean;
  compensationStatus: CompensationStatus | null;
  /** Compensation attempts made (the outstanding compensation attempt's number while one is). */
  compensationAttempts: number;
  /**
   * The phase of the step's outstanding attempt (dispatched, outcome not yet
   * applied), or null. A saga has any number of outstanding attempts (the
   * branches of a group, SPEC §8), at most one per step.
   */
  awaiting: Phase | null;
  /**
   * Attempts of the step's current phase made before the last replay: the
   * retry budget counts from here, while attempt numbers keep counting (so
   * every attempt has its own number and job id). A first attempt resets it.
   */
  attemptBase: number;
  /**
   * The outstanding attempt waits for the outside world (SPEC §10): a signal,
   * or a callback its participant acknowledged. Set by the worker; cleared
   * with the attempt. Cancel and the deadline end such an attempt at once.
   */
  waiting: WaitKind | null;
}

export const WAIT_KINDS = ['callback', 'signal'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

/** What the engine needs to know about a saga to decide its next move. */
export interface SagaSnapshot {
  id: string;
  /** The run's input and the outputs so far: what data placeholders are rendered from (SPEC §11). */
  input: unknown;
  results: Record<string, unknown>;
  correlationId: string | null;
  status: SagaStatus;
  run: number;
  /**
   * No new attempt starts; once no attempt is outstanding the saga
   * compensates (status COMPENSATING: cancel, deadline, a step failed for
   * good) or pauses (status RUNNING: a step failed for good and the
   * definition pauses). Holds the reason.
   */
  stopRequested: SagaError | null;
  error: SagaError | null;
  steps: StepState[];
}

export type EngineInput =
  | { type: 'start'; definition: string; version: number; correlationId: string | null }
  | { type: 'attempt-succeeded'; step: number; phase: Phase; attempt: number; output: unknown }
  | { type: 'attempt-failed'; step: number; phase: Phase; attempt: number; failure: AttemptFailure }
  /** The attempt's deadline passed with no outcome: what that means depends on the step (SPEC §2, §10). */
  | { type: 'attempt-timed-out'; step: number; phase: Phase; attempt: number }
  | { type: 'cancel'; /** Who asked (the API key's name); kept in the history. */ by?: string | null; /** Why, as the operator said; kept in the history. */ reason?: string | null }
  | { type: 'deadline' }
  | ReplayInput;

/** SPEC §5: resume a PAUSED or FAILED saga, or start a new run of a COMPENSATED one. */
export interface ReplayInput {
  type: 'replay';
  /** The input of the new run (COMPENSATED only); the run's own input when omitted. */
  input?: unknown;
  /** Why, as the operator said; kept in the history. */
  reason?: string | null;
  /** Who asked (the API key's name once keys exist); kept in the history. */
  by?: string | null;
}

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
  awaiting?: Phase | null;
  attemptBase?: number;
  attempts?: number;
  lastAttemptTimedOut?: boolean;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  output?: unknown;
  error?: Record<string, unknown> | null;
  compensationStatus?: CompensationStatus | null;
  compensationAttempts?: number;
  compensationStartedAt?: Date | null;
  compensationFinishedAt?: Date | null;
  compensationError?: Record<string, unknown> | null;
}

export type SagaPatch = Partial<Pick<SagaSnapshot, 'status' | 'run' | 'stopRequested' | 'error'>> & {
  finishedAt?: Date | null;
  /** A new run's input. */
  input?: unknown;
  /** The saga deadline: set at start (and restarted by a replay); null for none, or once past the pivot. */
  deadlineAt?: Date | null;
  /** The decision's `results` replace the saga's instead of being merged (a new run). */
  resetResults?: boolean;
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
  /** An input the saga's status does not allow (e.g. cancel of a completed saga); `code` when it is not a plain state conflict. */
  | { outcome: 'rejected'; reason: string; code?: 'PAST_PIVOT' };
