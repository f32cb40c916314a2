import type { DefinitionSpec, StepSpec } from '../definitions/definition.model.js';
import { retryDelayMs } from './backoff.js';
import type {
  AttemptFailure,
  Command,
  Decision,
  EngineInput,
  HistoryEventDraft,
  ReplayInput,
  SagaError,
  SagaPatch,
  SagaSnapshot,
  StepPatch,
} from './saga-state.js';
import { CompensationStatus, EventType, Phase, SagaErrorCode, SagaStatus, StepStatus } from './statuses.js';

export interface DecideContext {
  definition: DefinitionSpec;
  saga: SagaSnapshot;
  now: Date;
  /** In [0, 1): retry jitter. */
  random: () => number;
}

/**
 * The whole saga state machine: given the definition, the saga as stored and
 * one input, returns what changes, what is recorded and what is dispatched.
 * Pure: no I/O, no clock, no randomness of its own. The caller persists the
 * decision in one guarded transaction and then dispatches its commands.
 */
export function decide(ctx: DecideContext, input: EngineInput): Decision {
  switch (input.type) {
    case 'start':
      return start(ctx);
    case 'attempt-succeeded':
    case 'attempt-failed': {
      const stale = staleReason(ctx.saga, input);
      if (stale) return { outcome: 'stale', reason: stale };
      return input.phase === Phase.ACTION
        ? input.type === 'attempt-succeeded'
          ? actionSucceeded(ctx, input.output)
          : actionFailed(ctx, input.failure)
        : input.type === 'attempt-succeeded'
          ? compensationSucceeded(ctx)
          : compensationFailed(ctx, input.failure);
    }
    case 'cancel':
      return stop(ctx, { code: SagaErrorCode.CANCELLED, message: 'The saga was cancelled.' }, EventType.SagaCancelled, { by: input.by ?? null, reason: input.reason ?? null });
    case 'deadline':
      return stop(ctx, { code: SagaErrorCode.SAGA_TIMEOUT, message: 'The saga passed its deadline.' }, EventType.SagaTimedOut);
    case 'replay':
      return replay(ctx, input);
  }
}

/** Accumulates one decision's changes. */
class Builder {
  readonly saga: SagaPatch = {};
  readonly steps = new Map<number, StepPatch>();
  readonly results: Record<string, unknown> = {};
  readonly events: HistoryEventDraft[] = [];
  readonly commands: Command[] = [];

  constructor(readonly ctx: DecideContext) {}

  step(index: number, patch: StepPatch): void {
    this.steps.set(index, { ...this.steps.get(index), ...patch });
  }

  event(type: EventType, fields: Omit<HistoryEventDraft, 'type'> = {}): void {
    this.events.push({ type, ...fields });
  }

  /** Makes (step, phase, attempt) the outstanding attempt and dispatches it. */
  dispatch(index: number, phase: Phase, attempt: number, delayMs: number): void {
    const notBefore = delayMs > 0 ? new Date(this.ctx.now.getTime() + delayMs) : null;
    // A first attempt opens a fresh budget; a retry keeps the one in force.
    const attemptBase = attempt === 1 ? 0 : (this.saga.attemptBase ?? this.ctx.saga.attemptBase);
    Object.assign(this.saga, { cursor: index, phase, attempt, attemptBase, awaiting: true });
    this.commands.push({ type: 'dispatch', step: index, phase, attempt, notBefore });
  }

  done(): Decision {
    return { outcome: 'applied', saga: this.saga, steps: this.steps, results: this.results, events: this.events, commands: this.commands };
  }
}

function spec(ctx: DecideContext, index: number): StepSpec {
  return ctx.definition.steps[index];
}

function start(ctx: DecideContext): Decision {
  const b = new Builder(ctx);
  b.saga.status = SagaStatus.RUNNING;
  startStep(b, 0);
  return b.done();
}

function startStep(b: Builder, index: number): void {
  b.step(index, { status: StepStatus.RUNNING, attempts: 1, startedAt: b.ctx.now });
  b.event(EventType.StepStarted, { step: spec(b.ctx, index).name, phase: Phase.ACTION, attempt: 1 });
  b.dispatch(index, Phase.ACTION, 1, 0);
}

function staleReason(saga: SagaSnapshot, input: { step: number; phase: Phase; attempt: number }): string | null {
  if (!saga.awaiting) return `no attempt is outstanding (saga ${saga.status})`;
  if (input.step !== saga.cursor || input.phase !== saga.phase || input.attempt !== saga.attempt) {
    return `outstanding attempt is step ${saga.cursor} ${saga.phase} #${saga.attempt}, not step ${input.step} ${input.phase} #${input.attempt}`;
  }
  return null;
}

function actionSucceeded(ctx: DecideContext, output: unknown): Decision {
  const b = new Builder(ctx);
  const i = ctx.saga.cursor;
  const name = spec(ctx, i).name;
  b.step(i, { status: StepStatus.SUCCEEDED, finishedAt: ctx.now, output: output ?? null, error: null, lastAttemptTimedOut: false });
  b.results[name] = output ?? null;
  b.event(EventType.StepSucceeded, { step: name, phase: Phase.ACTION, attempt: ctx.saga.attempt });
  b.saga.awaiting = false;
  if (ctx.saga.stopRequested) {
    // Stopped while this attempt ran: it succeeded, so it is undone first.
    beginCompensation(b, i, ctx.saga.stopRequested, { [i]: StepStatus.SUCCEEDED });
  } else if (i + 1 < ctx.definition.steps.length) {
    startStep(b, i + 1);
  } else {
    b.saga.status = SagaStatus.COMPLETED;
    b.saga.finishedAt = ctx.now;
    b.event(EventType.SagaCompleted);
  }
  return b.done();
}

function actionFailed(ctx: DecideContext, failure: AttemptFailure): Decision {
  const b = new Builder(ctx);
  const i = ctx.saga.cursor;
  const step = spec(ctx, i);
  const attempt = ctx.saga.attempt;
  const error = failureError(failure, attempt);
  b.event(EventType.StepFailed, { step: step.name, phase: Phase.ACTION, attempt, data: { error } });
  b.step(i, { lastAttemptTimedOut: failure.timedOut, error });
  b.saga.awaiting = false;

  if (ctx.saga.stopRequested) {
    b.step(i, { status: StepStatus.FAILED, finishedAt: ctx.now });
    beginCompensation(b, i, ctx.saga.stopRequested, { [i]: StepStatus.FAILED }, { [i]: failure.timedOut });
    return b.done();
  }
  if (failure.retryable && budgetLeft(ctx, step)) {
    scheduleRetry(b, i, Phase.ACTION, attempt);
    return b.done();
  }
  b.step(i, { status: StepStatus.FAILED, finishedAt: ctx.now });
  const cause: SagaError = {
    code: SagaErrorCode.STEP_FAILED,
    step: step.name,
    message: `Step "${step.name}" failed after ${attemptsText(ctx)}: ${failure.message}`,
  };
  if (ctx.definition.onStepFailure === 'pause') {
    b.saga.status = SagaStatus.PAUSED;
    b.saga.error = cause;
    b.event(EventType.SagaPaused, { step: step.name, data: { error: cause } });
  } else {
    beginCompensation(b, i, cause, { [i]: StepStatus.FAILED }, { [i]: failure.timedOut });
  }
  return b.done();
}

/** Dispatches the next attempt after the step's backoff; the attempt counter of the phase moves on. */
function scheduleRetry(b: Builder, index: number, phase: Phase, failedAttempt: number): void {
  const step = spec(b.ctx, index);
  const delayMs = retryDelayMs(step.retry, failedAttempt - b.ctx.saga.attemptBase, b.ctx.random);
  b.step(index, phase === Phase.ACTION ? { attempts: failedAttempt + 1 } : { compensationAttempts: failedAttempt + 1 });
  b.event(EventType.StepRetryScheduled, { step: step.name, phase, attempt: failedAttempt + 1, data: { delayMs } });
  b.dispatch(index, phase, failedAttempt + 1, delayMs);
}

function compensationSucceeded(ctx: DecideContext): Decision {
  const b = new Builder(ctx);
  const j = ctx.saga.cursor;
  b.step(j, { status: StepStatus.COMPENSATED, compensationStatus: CompensationStatus.SUCCEEDED, compensationFinishedAt: ctx.now, compensationError: null });
  b.event(EventType.CompensationSucceeded, { step: spec(ctx, j).name, phase: Phase.COMPENSATION, attempt: ctx.saga.attempt });
  b.saga.awaiting = false;
  compensateNext(b, j - 1, ctx.saga.error);
  return b.done();
}

function compensationFailed(ctx: DecideContext, failure: AttemptFailure): Decision {
  const b = new Builder(ctx);
  const j = ctx.saga.cursor;
  const step = spec(ctx, j);
  const attempt = ctx.saga.attempt;
  const error = failureError(failure, attempt);
  b.event(EventType.CompensationFailed, { step: step.name, phase: Phase.COMPENSATION, attempt, data: { error } });
  b.step(j, { compensationError: error });
  b.saga.awaiting = false;
  if (failure.retryable && budgetLeft(ctx, step)) {
    scheduleRetry(b, j, Phase.COMPENSATION, attempt);
    return b.done();
  }
  b.step(j, { status: StepStatus.COMPENSATION_FAILED, compensationStatus: CompensationStatus.FAILED, compensationFinishedAt: ctx.now });
  const sagaError: SagaError = {
    code: SagaErrorCode.COMPENSATION_FAILED,
    step: step.name,
    message: `Compensation of step "${step.name}" failed after ${attemptsText(ctx)}: ${failure.message}`,
    ...(ctx.saga.error ? { cause: ctx.saga.error } : {}),
  };
  b.saga.status = SagaStatus.FAILED;
  b.saga.error = sagaError;
  b.event(EventType.SagaFailed, { step: step.name, data: { error: sagaError } });
  return b.done();
}

/** Cancel and deadline: compensate now, or once the outstanding forward attempt has ended. */
function stop(ctx: DecideContext, reason: SagaError, eventType: EventType, extra: Record<string, unknown> = {}): Decision {
  const { saga } = ctx;
  const b = new Builder(ctx);
  if (saga.status === SagaStatus.RUNNING && saga.awaiting) {
    // The attempt may be running at the participant: compensating now could
    // undo a step before its action lands. Its outcome decides what to undo.
    b.saga.status = SagaStatus.COMPENSATING;
    b.saga.stopRequested = reason;
    b.saga.error = reason;
    b.event(eventType, { data: { error: reason, ...extra, waitingFor: spec(ctx, saga.cursor).name } });
    return b.done();
  }
  if (saga.status === SagaStatus.PAUSED) {
    b.event(eventType, { data: { error: reason, ...extra } });
    const failed = saga.steps[saga.cursor];
    beginCompensation(b, saga.cursor, reason, {}, { [saga.cursor]: failed.lastAttemptTimedOut });
    return b.done();
  }
  if (eventType === EventType.SagaTimedOut) return { outcome: 'stale', reason: `deadline ignored: saga is ${saga.status}` };
  return { outcome: 'rejected', reason: `a ${saga.status} saga cannot be cancelled` };
}

/**
 * Starts compensating from `fromIndex` downwards. `statusNow` and
 * `timedOutNow` override the snapshot for steps this decision just changed.
 */
function beginCompensation(
  b: Builder,
  fromIndex: number,
  reason: SagaError,
  statusNow: Record<number, StepStatus> = {},
  timedOutNow: Record<number, boolean> = {},
): void {
  b.saga.status = SagaStatus.COMPENSATING;
  b.saga.error = reason;
  b.saga.stopRequested = null;
  b.event(EventType.SagaCompensating, { data: { error: reason } });
  compensateNext(b, fromIndex, reason, statusNow, timedOutNow);
}

/** Dispatches the compensation of the nearest step at or below `fromIndex` that needs one; else COMPENSATED. */
function compensateNext(
  b: Builder,
  fromIndex: number,
  reason: SagaError | null,
  statusNow: Record<number, StepStatus> = {},
  timedOutNow: Record<number, boolean> = {},
): void {
  const { ctx } = b;
  for (let j = fromIndex; j >= 0; j--) {
    const state = ctx.saga.steps[j];
    const status = statusNow[j] ?? state.status;
    const timedOut = timedOutNow[j] ?? state.lastAttemptTimedOut;
    const needs = status === StepStatus.SUCCEEDED || (status === StepStatus.FAILED && timedOut);
    if (!needs || !spec(ctx, j).compensation) continue;
    b.step(j, {
      status: StepStatus.COMPENSATING,
      compensationStatus: CompensationStatus.RUNNING,
      compensationAttempts: 1,
      compensationStartedAt: ctx.now,
    });
    b.event(EventType.CompensationStarted, { step: spec(ctx, j).name, phase: Phase.COMPENSATION, attempt: 1 });
    b.dispatch(j, Phase.COMPENSATION, 1, 0);
    return;
  }
  b.saga.status = SagaStatus.COMPENSATED;
  b.saga.finishedAt = ctx.now;
  b.saga.awaiting = false;
  b.event(EventType.SagaCompensated, { data: { error: reason } });
}

/** The outstanding attempt failed: may another be made within the budget (counted since the last replay)? */
function budgetLeft(ctx: DecideContext, step: StepSpec): boolean {
  return ctx.saga.attempt - ctx.saga.attemptBase < step.retry.maxAttempts;
}

function attemptsText(ctx: DecideContext): string {
  const n = ctx.saga.attempt - ctx.saga.attemptBase;
  return `${n} attempt${n === 1 ? '' : 's'}${ctx.saga.attemptBase > 0 ? ' since the last replay' : ''}`;
}

/**
 * SPEC §5. PAUSED: the failed step runs again with a fresh attempt budget.
 * FAILED: the failed compensation runs again with a fresh budget, and
 * compensation goes on in reverse order. COMPENSATED: a new run from the
 * first step (new idempotency keys, since they contain the run). Attempt
 * numbers keep counting within a run, so a late result of an attempt made
 * before the replay is recognised as stale. A replay restarts the saga's
 * deadline clock.
 */
function replay(ctx: DecideContext, input: ReplayInput): Decision {
  const { saga, definition, now } = ctx;
  const from = saga.status;
  if (input.input !== undefined && from !== SagaStatus.COMPENSATED) {
    return { outcome: 'rejected', reason: `a new input can only be given to a COMPENSATED saga (it starts a new run); this one is ${from}` };
  }
  const b = new Builder(ctx);
  const deadlineAt = definition.timeoutMs ? new Date(now.getTime() + definition.timeoutMs) : null;
  const replayed = (run: number, extra: Record<string, unknown> = {}) =>
    b.event(EventType.SagaReplayed, { data: { fromStatus: from, run, reason: input.reason ?? null, by: input.by ?? null, ...extra } });

  switch (from) {
    case SagaStatus.PAUSED: {
      const i = saga.cursor;
      const next = saga.steps[i].attempts + 1;
      replayed(saga.run, { step: spec(ctx, i).name });
      Object.assign(b.saga, { status: SagaStatus.RUNNING, error: null, attemptBase: next - 1, deadlineAt });
      b.step(i, { status: StepStatus.RUNNING, attempts: next, finishedAt: null, error: null, lastAttemptTimedOut: false });
      b.event(EventType.StepStarted, { step: spec(ctx, i).name, phase: Phase.ACTION, attempt: next });
      b.dispatch(i, Phase.ACTION, next, 0);
      return b.done();
    }
    case SagaStatus.FAILED: {
      const j = saga.cursor;
      const next = saga.steps[j].compensationAttempts + 1;
      replayed(saga.run, { step: spec(ctx, j).name });
      // Back to compensating for the reason it started.
      Object.assign(b.saga, { status: SagaStatus.COMPENSATING, error: saga.error?.cause ?? saga.error, attemptBase: next - 1, deadlineAt });
      b.step(j, {
        status: StepStatus.COMPENSATING,
        compensationStatus: CompensationStatus.RUNNING,
        compensationAttempts: next,
        compensationFinishedAt: null,
        compensationError: null,
      });
      b.event(EventType.CompensationStarted, { step: spec(ctx, j).name, phase: Phase.COMPENSATION, attempt: next });
      b.dispatch(j, Phase.COMPENSATION, next, 0);
      return b.done();
    }
    case SagaStatus.COMPENSATED: {
      const run = saga.run + 1;
      replayed(run, { previousRun: saga.run, newInput: input.input !== undefined });
      Object.assign(b.saga, {
        status: SagaStatus.RUNNING,
        run,
        error: null,
        stopRequested: null,
        finishedAt: null,
        deadlineAt,
        resetResults: true,
        ...(input.input !== undefined ? { input: input.input } : {}),
      });
      for (let i = 0; i < definition.steps.length; i++) b.step(i, PENDING_STEP);
      startStep(b, 0);
      return b.done();
    }
    default:
      return { outcome: 'rejected', reason: `a ${from} saga cannot be replayed (only PAUSED, FAILED and COMPENSATED ones can)` };
  }
}

/** Every field of a step as a new run starts it. */
const PENDING_STEP: StepPatch = {
  status: StepStatus.PENDING,
  attempts: 0,
  lastAttemptTimedOut: false,
  startedAt: null,
  finishedAt: null,
  output: null,
  error: null,
  compensationStatus: null,
  compensationAttempts: 0,
  compensationStartedAt: null,
  compensationFinishedAt: null,
  compensationError: null,
};

function failureError(failure: AttemptFailure, attempt: number): Record<string, unknown> {
  return {
    message: failure.message,
    attempt,
    retryable: failure.retryable,
    timedOut: failure.timedOut,
    ...(failure.skipped ? { skipped: true } : {}),
    ...(failure.details ?? {}),
  };
}
