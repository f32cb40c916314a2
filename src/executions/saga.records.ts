import type { HistoryEventDraft, SagaError, SagaPatch, StepPatch, WaitKind } from '../engine/saga-state.js';
import type { CompensationStatus, Phase, SagaStatus, StepStatus } from '../engine/statuses.js';

export interface StepRecord {
  index: number;
  name: string;
  status: StepStatus;
  attempts: number;
  lastAttemptTimedOut: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: Record<string, unknown> | null;
  compensationStatus: CompensationStatus | null;
  compensationAttempts: number;
  compensationStartedAt: string | null;
  compensationFinishedAt: string | null;
  compensationError: Record<string, unknown> | null;
  /** The phase of the step's outstanding attempt, or null (see StepState.awaiting). */
  awaiting: Phase | null;
  attemptBase: number;
  /** The outstanding attempt is due no earlier (a retry's backoff). */
  notBefore: string | null;
  /** The BullMQ job whose worker carries the outstanding attempt on (eager steps), or null when it has a job of its own. */
  carrier: string | null;
  /** The outstanding attempt waits on its host's open circuit (cleared when the step's attempt changes). */
  circuitWait: { host: string; until: string } | null;
  /** The outstanding attempt waits for a signal or an acknowledged callback (StepState.waiting). */
  waiting: WaitKind | null;
}

/** A saga row with its steps, as read in one query. */
export interface SagaRecord {
  id: string;
  definitionName: string;
  definitionVersion: number;
  run: number;
  status: SagaStatus;
  input: unknown;
  correlationId: string | null;
  results: Record<string, unknown>;
  error: SagaError | null;
  stopRequested: SagaError | null;
  deadlineAt: Date | null;
  version: number;
  nextSeq: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  steps: StepRecord[];
}

export interface EventRecord {
  seq: number;
  run: number;
  type: string;
  step: string | null;
  phase: string | null;
  attempt: number | null;
  at: Date;
  data: Record<string, unknown> | null;
}

export interface NewSaga {
  id: string;
  definitionName: string;
  definitionVersion: number;
  input: unknown;
  correlationId: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  stepNames: string[];
}

/** The saga exactly as `insert` stores it, so the trigger can answer without reading it back. */
export function newSagaRecord(saga: NewSaga, state: SagaPatch, steps: Map<number, StepPatch>, eventCount: number, now: Date): SagaRecord {
  const { stepNames, ...fields } = saga;
  const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
  return {
    ...fields,
    run: 1,
    status: state.status!,
    results: {},
    // A start whose first step failed as it started (MAPPING_FAILED) is stopping, or settled, already.
    error: state.error ?? null,
    deadlineAt: state.deadlineAt ?? null,
    stopRequested: state.stopRequested ?? null,
    version: 0,
    nextSeq: 1 + eventCount,
    createdAt: now,
    updatedAt: now,
    finishedAt: state.finishedAt ?? null,
    steps: stepNames.map((name, index) => {
      const step = steps.get(index);
      return {
        index,
        name,
        status: step?.status ?? 'PENDING',
        attempts: step?.attempts ?? 0,
        lastAttemptTimedOut: false,
        startedAt: iso(step?.startedAt),
        finishedAt: iso(step?.finishedAt),
        output: null,
        error: step?.error ?? null,
        compensationStatus: null,
        compensationAttempts: 0,
        compensationStartedAt: null,
        compensationFinishedAt: null,
        compensationError: null,
        awaiting: step?.awaiting ?? null,
        attemptBase: 0,
        notBefore: null,
        carrier: null,
        circuitWait: null,
        waiting: null,
      };
    }),
  };
}

/** One event row per draft, numbered from `firstSeq`. */
export function eventRows(drafts: HistoryEventDraft[], firstSeq: number, run: number, at: Date) {
  return drafts.map((e, i) => ({
    seq: firstSeq + i,
    run,
    type: e.type,
    step: e.step ?? null,
    phase: e.phase ?? null,
    attempt: e.attempt ?? null,
    at: at.toISOString(),
    data: e.data ?? null,
  }));
}

/** A row of the saga list: the saga without its input, results and steps, plus the step it is at. */
export interface SagaSummaryRecord {
  id: string;
  definitionName: string;
  definitionVersion: number;
  run: number;
  status: SagaStatus;
  correlationId: string | null;
  error: SagaError | null;
  /** The furthest step with an outstanding attempt (or, settled, where the saga stopped), and its phase. */
  currentStep: string | null;
  phase: Phase | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** created_at in microseconds since the epoch, exactly (the keyset cursor; a JS Date keeps only ms). */
  createdUs: string;
}

export interface SagaListFilter {
  statuses?: SagaStatus[];
  definition?: string;
  correlationId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** Only sagas whose `error.code` is one of these. */
  errorCodes?: string[];
  /** No saga whose `error.code` is one of these. */
  excludeErrorCodes?: string[];
}

/** Position after the last row of a page: (created_at in µs, id). */
export interface SagaListPosition {
  createdUs: string;
  id: string;
}
