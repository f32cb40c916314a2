import type { PlannedStep, SagaPlan } from '../definitions/saga-plan.js';
import { retryDelayMs } from './backoff.js';
import { MappingFailed, renderRequest, type MappingContext, type RenderedRequest } from './mapping.js';
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
  StepState,
} from './saga-state.js';
import { CompensationStatus, EventType, Phase, SagaErrorCode, SagaStatus, StepStatus } from './statuses.js';

export interface DecideContext {
  definition: SagaPlan;
  saga: SagaSnapshot;
  now: Date;
  /** In [0, 1): retry jitter. */
  random: () => number;
}

/** An attempt as the engine addresses it: a step (flat index), a phase and the attempt's number. */
export interface AttemptAddress {
  step: number;
  phase: Phase;
  attempt: number;
}

/**
 * The whole saga state machine: given the definition, the saga as stored and
 * one input, returns what changes, what is recorded and what is dispatched.
 * Pure: no I/O, no clock, no randomness of its own. The caller persists the
 * decision in one guarded transaction and then dispatches its commands.
 *
 * A saga has a set of outstanding attempts (at most one per step: the
 * branches of a parallel group run at once, SPEC §8). Every decision applies
 * its input to the steps, then `advance` works out from the resulting state
 * what may start next: the next steps forward, the next compensations
 * backward (each branch in reverse, a group before the steps before it), or
 * the saga's end.
 */
export function decide(ctx: DecideContext, input: EngineInput): Decision {
  switch (input.type) {
    case 'start':
      return start(ctx, input);
    case 'attempt-succeeded':
    case 'attempt-failed':
    case 'attempt-timed-out': {
      const stale = staleReason(ctx.saga, input);
      if (stale) return { outcome: 'stale', reason: stale };
      if (input.type === 'attempt-succeeded') return input.phase === Phase.ACTION ? actionSucceeded(ctx, input.step, input.output) : compensationSucceeded(ctx, input.step);
      const failure = input.type === 'attempt-failed' ? input.failure : timedOut(ctx.definition.steps[input.step], input.phase);
      return input.phase === Phase.ACTION ? actionFailed(ctx, input.step, failure) : compensationFailed(ctx, input.step, failure);
    }
    case 'cancel':
      return stop(ctx, { code: SagaErrorCode.CANCELLED, message: 'The saga was cancelled.' }, EventType.SagaCancelled, { by: input.by ?? null, reason: input.reason ?? null });
    case 'deadline':
      return stop(ctx, { code: SagaErrorCode.SAGA_TIMEOUT, message: 'The saga passed its deadline.' }, EventType.SagaTimedOut);
    case 'replay':
      return replay(ctx, input);
  }
}

/**
 * Whether `address` is the step's outstanding attempt in the saga as stored:
 * the one rule every reader of attempts uses (workers, SQL guards mirror it).
 */
export function isOutstanding(saga: Pick<SagaSnapshot, 'steps'>, address: AttemptAddress): boolean {
  const step = saga.steps[address.step];
  return step !== undefined && step.awaiting === address.phase && attemptNumber(step, address.phase) === address.attempt;
}

/** The addresses of a saga's outstanding attempts, in step order. */
export function outstandingAttempts(saga: Pick<SagaSnapshot, 'steps'>): AttemptAddress[] {
  return saga.steps.flatMap((step, index) => (step.awaiting ? [{ step: index, phase: step.awaiting, attempt: attemptNumber(step, step.awaiting) }] : []));
}

/**
 * An attempt whose deadline passed with no outcome (SPEC §2, §10): a call,
 * a queue task or a callback has an unknown outcome and is retried within
 * the budget; a signal that did not come fails the step for good (nothing
 * was called, so the outcome is known).
 */
function timedOut(step: PlannedStep, phase: Phase): AttemptFailure {
  const action = phase === Phase.ACTION ? step.action : step.compensation;
  if (action?.type === 'signal') {
    return { retryable: false, timedOut: false, message: `No signal "${action.signal}" within ${step.timeoutMs} ms.`, details: { code: 'SIGNAL_TIMEOUT' } };
  }
  if (action?.type === 'http' && action.completion === 'callback') {
    return { retryable: true, timedOut: true, message: `No callback within ${step.timeoutMs} ms of the dispatch: the outcome is unknown.` };
  }
  return { retryable: true, timedOut: true, message: 'The participant reported no result within the step timeout.' };
}

function attemptNumber(step: Pick<StepState, 'attempts' | 'compensationAttempts'>, phase: Phase): number {
  return phase === Phase.ACTION ? step.attempts : step.compensationAttempts;
}

/** Accumulates one decision's changes, and reads the saga as they leave it. */
class Builder {
  readonly saga: SagaPatch = {};
  readonly steps = new Map<number, StepPatch>();
  readonly results: Record<string, unknown> = {};
  readonly events: HistoryEventDraft[] = [];
  readonly commands: Command[] = [];
  /** A step failed for good as it started (MAPPING_FAILED): `advance` looks at the saga again. */
  rerun = false;

  constructor(readonly ctx: DecideContext) {}

  /** What placeholders render from, as this decision leaves the saga (a new run's input, this decision's outputs). */
  mappingContext(): MappingContext {
    const { saga } = this.ctx;
    return {
      input: this.saga.input !== undefined ? this.saga.input : saga.input,
      results: this.saga.resetResults ? this.results : { ...saga.results, ...this.results },
      saga: { id: saga.id, run: this.saga.run ?? saga.run, correlationId: saga.correlationId },
    };
  }

  get plan(): SagaPlan {
    return this.ctx.definition;
  }

  spec(index: number): PlannedStep {
    return this.ctx.definition.steps[index];
  }

  /** The step as this decision leaves it so far. */
  state(index: number): StepState {
    const base = this.ctx.saga.steps[index];
    const patch = this.steps.get(index);
    if (!patch) return base;
    const out = { ...base };
    for (const key of Object.keys(patch) as Array<keyof StepPatch>) {
      if (key in out && patch[key] !== undefined) (out as Record<string, unknown>)[key] = patch[key];
    }
    // A wait belongs to its attempt (storage clears it the same way).
    if (patch.awaiting !== undefined) out.waiting = null;
    return out;
  }

  status(): SagaStatus {
    return this.saga.status ?? this.ctx.saga.status;
  }

  stopRequested(): SagaError | null {
    return this.saga.stopRequested !== undefined ? this.saga.stopRequested : this.ctx.saga.stopRequested;
  }

  error(): SagaError | null {
    return this.saga.error !== undefined ? this.saga.error : this.ctx.saga.error;
  }

  step(index: number, patch: StepPatch): void {
    this.steps.set(index, { ...this.steps.get(index), ...patch });
  }

  event(type: EventType, fields: Omit<HistoryEventDraft, 'type'> = {}): void {
    this.events.push({ type, ...fields });
  }

  /** An event of one step's attempt; a group's steps carry `group` and `branch` in `data` (SPEC §8). */
  stepEvent(type: EventType, index: number, phase: Phase, attempt: number | undefined, data?: Record<string, unknown>): void {
    const spec = this.spec(index);
    const where = spec.group === null ? {} : { group: spec.group, branch: spec.branch };
    const merged = { ...where, ...data };
    this.event(type, { step: spec.name, phase, ...(attempt !== undefined ? { attempt } : {}), ...(Object.keys(merged).length > 0 ? { data: merged } : {}) });
  }

  /** Makes (step, phase, attempt) an outstanding attempt and dispatches it; a first attempt opens a fresh budget. */
  dispatch(index: number, phase: Phase, attempt: number, delayMs: number): void {
    const notBefore = delayMs > 0 ? new Date(this.ctx.now.getTime() + delayMs) : null;
    this.step(index, { awaiting: phase, ...(attempt === 1 ? { attemptBase: 0 } : {}) });
    this.commands.push({ type: 'dispatch', step: index, phase, attempt, notBefore });
  }

  /** Whether any attempt of the saga is outstanding, as this decision leaves it. */
  anyOutstanding(): boolean {
    return this.ctx.saga.steps.some((_, i) => this.state(i).awaiting !== null);
  }

  /** Past the point of no return (SPEC §9): the pivot (or, without one, the first retriable step) succeeded. */
  pastPivot(): boolean {
    return this.plan.pivot !== null && this.state(this.plan.pivot).status === StepStatus.SUCCEEDED;
  }

  done(): Decision {
    return { outcome: 'applied', saga: this.saga, steps: this.steps, results: this.results, events: this.events, commands: this.commands };
  }
}

function start(ctx: DecideContext, input: Extract<EngineInput, { type: 'start' }>): Decision {
  const b = new Builder(ctx);
  b.saga.status = SagaStatus.RUNNING;
  b.saga.deadlineAt = deadlineFrom(ctx);
  b.event(EventType.SagaStarted, { data: { definition: input.definition, version: input.version, correlationId: input.correlationId } });
  advance(b);
  return b.done();
}

/** The saga deadline counted from now (a start or a replay), or null when the definition has none. */
function deadlineFrom(ctx: DecideContext): Date | null {
  return ctx.definition.timeoutMs ? new Date(ctx.now.getTime() + ctx.definition.timeoutMs) : null;
}

function startStep(b: Builder, index: number): void {
  const attempt = b.state(index).attempts + 1;
  b.step(index, { status: StepStatus.RUNNING, attempts: attempt, startedAt: b.ctx.now });
  beginAttempt(b, index, Phase.ACTION, attempt);
}

/**
 * The first attempt of a step's phase (a start, or a replay's fresh one):
 * its request rendered (SPEC §11) into the `…Started` event, with secret
 * references left as they are, and dispatched. A placeholder with nothing
 * to put in fails the phase for good, MAPPING_FAILED, with nothing called.
 */
function beginAttempt(b: Builder, index: number, phase: Phase, attempt: number): void {
  const spec = b.spec(index);
  const template = phase === Phase.ACTION ? spec.requests.action : spec.requests.compensation;
  let request: RenderedRequest | undefined;
  let failure: AttemptFailure | undefined;
  if (template) {
    try {
      request = renderRequest((phase === Phase.ACTION ? spec.action : spec.compensation!) as { method: string }, template, b.mappingContext());
    } catch (error) {
      if (!(error instanceof MappingFailed)) throw error;
      failure = { retryable: false, timedOut: false, message: `Data mapping failed: ${error.message}.`, details: { code: 'MAPPING_FAILED' } };
    }
  }
  b.stepEvent(phase === Phase.ACTION ? EventType.StepStarted : EventType.CompensationStarted, index, phase, attempt, request ? { request } : undefined);
  if (!failure) {
    b.dispatch(index, phase, attempt, 0);
    return;
  }
  b.step(index, { awaiting: phase });
  if (phase === Phase.ACTION) recordActionFailure(b, index, failure);
  else recordCompensationFailure(b, index, failure);
  b.rerun = true;
}

function staleReason(saga: SagaSnapshot, input: AttemptAddress): string | null {
  if (isOutstanding(saga, input)) return null;
  const outstanding = outstandingAttempts(saga);
  if (outstanding.length === 0) return `no attempt is outstanding (saga ${saga.status})`;
  return `step ${input.step} ${input.phase} #${input.attempt} is not outstanding (outstanding: ${outstanding.map((a) => `step ${a.step} ${a.phase} #${a.attempt}`).join(', ')})`;
}

function actionSucceeded(ctx: DecideContext, i: number, output: unknown): Decision {
  const b = new Builder(ctx);
  const attempt = ctx.saga.steps[i].attempts;
  b.step(i, { status: StepStatus.SUCCEEDED, awaiting: null, finishedAt: ctx.now, output: output ?? null, error: null, lastAttemptTimedOut: false });
  b.results[b.spec(i).name] = output ?? null;
  b.stepEvent(EventType.StepSucceeded, i, Phase.ACTION, attempt);
  // Past the point of no return the saga deadline no longer applies (SPEC §9).
  if (i === ctx.definition.pivot && ctx.definition.timeoutMs) b.saga.deadlineAt = null;
  advance(b);
  return b.done();
}

function actionFailed(ctx: DecideContext, i: number, failure: AttemptFailure): Decision {
  const b = new Builder(ctx);
  if (recordActionFailure(b, i, failure) === 'retry') return b.done();
  advance(b);
  return b.done();
}

/** The step's outstanding action attempt failed: a retry within the budget, or the step fails for good. */
function recordActionFailure(b: Builder, i: number, failure: AttemptFailure): 'retry' | 'failed' {
  const step = b.spec(i);
  const state = b.state(i);
  const attempt = state.attempts;
  const error = failureError(failure, attempt);
  b.stepEvent(EventType.StepFailed, i, Phase.ACTION, attempt, { error });
  // An attempt that was not made leaves what is known of the ones before it (a timed-out one stays unknown).
  b.step(i, { awaiting: null, error, lastAttemptTimedOut: failure.skipped ? state.lastAttemptTimedOut : failure.timedOut });

  if (b.stopRequested() === null && failure.retryable && budgetLeft(step.retry.maxAttempts, attempt, state.attemptBase)) {
    scheduleRetry(b, i, Phase.ACTION, attempt);
    return 'retry';
  }
  b.step(i, { status: StepStatus.FAILED, finishedAt: b.ctx.now });
  if (b.stopRequested() === null) failedForGood(b, i, failure);
  return 'failed';
}

/**
 * A step failed for good while the saga ran forward: no new attempt starts
 * (SPEC §8), and once the attempts in flight are settled the saga pauses or
 * compensates, as its kind and the definition say (SPEC §9).
 */
function failedForGood(b: Builder, i: number, failure: AttemptFailure): void {
  const step = b.spec(i);
  const attempts = attemptsText(b.state(i).attempts, b.state(i).attemptBase);
  if (b.pastPivot()) {
    const cause: SagaError = {
      code: SagaErrorCode.RETRIABLE_STEP_FAILED,
      step: step.name,
      message: `Retriable step "${step.name}" failed for good after ${attempts}: ${failure.message}. Past the pivot the saga only goes forward: replay retries it.`,
    };
    drain(b, cause, SagaStatus.RUNNING);
    return;
  }
  if (i === b.plan.pivot && b.state(i).lastAttemptTimedOut) {
    drain(b, pivotUnknown(b, i), SagaStatus.RUNNING);
    return;
  }
  const cause: SagaError = { code: SagaErrorCode.STEP_FAILED, step: step.name, message: `Step "${step.name}" failed after ${attempts}: ${failure.message}` };
  drain(b, cause, b.plan.onStepFailure === 'pause' ? SagaStatus.RUNNING : SagaStatus.COMPENSATING);
}

function pivotUnknown(b: Builder, i: number, cause?: SagaError | null): SagaError {
  const name = b.spec(i).name;
  return {
    code: SagaErrorCode.PIVOT_OUTCOME_UNKNOWN,
    step: name,
    message: `The final attempt of the pivot "${name}" timed out: its outcome is unknown and cannot be undone. Replay retries it (same idempotency key); cancel compensates the steps before it.`,
    ...(cause ? { cause } : {}),
  };
}

/**
 * Stops new attempts for `reason`: COMPENSATING compensates, RUNNING pauses,
 * once no attempt is outstanding (`advance` does it then).
 */
function drain(b: Builder, reason: SagaError, status: SagaStatus): void {
  b.saga.status = status;
  b.saga.stopRequested = reason;
  b.saga.error = reason;
}

/** Dispatches the next attempt after the step's backoff; the attempt counter of the phase moves on. */
function scheduleRetry(b: Builder, index: number, phase: Phase, failedAttempt: number): void {
  const step = b.spec(index);
  const delayMs = retryDelayMs(step.retry, failedAttempt - b.state(index).attemptBase, b.ctx.random);
  b.step(index, phase === Phase.ACTION ? { attempts: failedAttempt + 1 } : { compensationAttempts: failedAttempt + 1 });
  b.stepEvent(EventType.StepRetryScheduled, index, phase, failedAttempt + 1, { delayMs });
  b.dispatch(index, phase, failedAttempt + 1, delayMs);
}

function compensationSucceeded(ctx: DecideContext, j: number): Decision {
  const b = new Builder(ctx);
  b.step(j, { status: StepStatus.COMPENSATED, awaiting: null, compensationStatus: CompensationStatus.SUCCEEDED, compensationFinishedAt: ctx.now, compensationError: null });
  b.stepEvent(EventType.CompensationSucceeded, j, Phase.COMPENSATION, ctx.saga.steps[j].compensationAttempts);
  advance(b);
  return b.done();
}

function compensationFailed(ctx: DecideContext, j: number, failure: AttemptFailure): Decision {
  const b = new Builder(ctx);
  if (recordCompensationFailure(b, j, failure) === 'retry') return b.done();
  advance(b);
  return b.done();
}

/** The step's outstanding compensation attempt failed: a retry within the budget, or the compensation fails for good. */
function recordCompensationFailure(b: Builder, j: number, failure: AttemptFailure): 'retry' | 'failed' {
  const step = b.spec(j);
  const state = b.state(j);
  const attempt = state.compensationAttempts;
  const error = failureError(failure, attempt);
  b.stepEvent(EventType.CompensationFailed, j, Phase.COMPENSATION, attempt, { error });
  b.step(j, { awaiting: null, compensationError: error });
  if (failure.retryable && budgetLeft(step.retry.maxAttempts, attempt, state.attemptBase)) {
    scheduleRetry(b, j, Phase.COMPENSATION, attempt);
    return 'retry';
  }
  b.step(j, { status: StepStatus.COMPENSATION_FAILED, compensationStatus: CompensationStatus.FAILED, compensationFinishedAt: b.ctx.now });
  // The first compensation to fail for good names the saga's failure; the others' branches go on (SPEC §8).
  const current = b.error();
  if (current?.code !== SagaErrorCode.COMPENSATION_FAILED) {
    b.saga.error = {
      code: SagaErrorCode.COMPENSATION_FAILED,
      step: step.name,
      message: `Compensation of step "${step.name}" failed after ${attemptsText(attempt, state.attemptBase)}: ${failure.message}`,
      ...(current ? { cause: current } : {}),
    };
  }
  return 'failed';
}

/**
 * Cancel and deadline (SPEC §2, §8, §9): no new attempt starts; the saga
 * compensates once the attempts in flight are settled (their outcomes say
 * what to undo). Past the pivot, cancel is refused and the deadline no
 * longer applies.
 */
function stop(ctx: DecideContext, reason: SagaError, eventType: EventType, extra: Record<string, unknown> = {}): Decision {
  const { saga } = ctx;
  const b = new Builder(ctx);
  const isDeadline = eventType === EventType.SagaTimedOut;
  const stoppable = saga.status === SagaStatus.PAUSED || saga.status === SagaStatus.RUNNING;
  if (!stoppable) {
    if (isDeadline) return { outcome: 'stale', reason: `deadline ignored: saga is ${saga.status}` };
    return { outcome: 'rejected', reason: `a ${saga.status} saga cannot be cancelled` };
  }
  if (b.pastPivot()) {
    if (isDeadline) return { outcome: 'stale', reason: 'deadline ignored: the saga is past its pivot' };
    return { outcome: 'rejected', code: 'PAST_PIVOT', reason: `the saga is past its pivot ("${b.spec(ctx.definition.pivot!).name}" succeeded) and only goes forward` };
  }
  const outstanding = outstandingAttempts(saga);
  const waitingFor = outstanding.map((a) => b.spec(a.step).name);
  b.event(eventType, { data: { error: reason, ...extra, ...(waitingFor.length > 0 ? { waitingFor: waitingFor.length === 1 ? waitingFor[0] : waitingFor } : {}) } });
  if (outstanding.length > 0) {
    // The attempts may be running at the participants: compensating now could
    // undo a step before its action lands. Their outcomes decide what to undo.
    // An attempt that waits for the outside world (SPEC §10) ends now instead.
    drain(b, reason, SagaStatus.COMPENSATING);
    for (const address of outstanding) {
      const wait = waitOf(b, address);
      if (wait) recordActionFailure(b, address.step, stoppedWhileWaiting(b.spec(address.step), wait, reason));
    }
    advance(b);
    return b.done();
  }
  // A PAUSED saga: nothing is in flight (a pivot of unknown outcome stays as it is: it has no compensation).
  Object.assign(b.saga, { status: SagaStatus.COMPENSATING, error: reason, stopRequested: null });
  b.event(EventType.SagaCompensating, { data: { error: reason } });
  compensate(b);
  return b.done();
}

/** What an outstanding action attempt waits for, if it waits for the outside world: a signal, or an acknowledged callback. */
function waitOf(b: Builder, address: AttemptAddress): 'signal' | 'callback' | null {
  if (address.phase !== Phase.ACTION) return null;
  if (b.spec(address.step).action.type === 'signal') return 'signal';
  return b.state(address.step).waiting === 'callback' ? 'callback' : null;
}

/**
 * A waiting attempt ended by a cancel or the deadline: a signal step simply
 * did not get its signal (nothing was called); a callback step's call was
 * acknowledged, so its outcome is unknown and it is compensated.
 */
function stoppedWhileWaiting(step: PlannedStep, wait: 'signal' | 'callback', reason: SagaError): AttemptFailure {
  const why = reason.code === SagaErrorCode.CANCELLED ? 'The saga was cancelled' : 'The saga passed its deadline';
  if (wait === 'signal') {
    const signal = step.action.type === 'signal' ? step.action.signal : '';
    return { retryable: false, timedOut: false, message: `${why} while the step waited for the signal "${signal}".` };
  }
  return { retryable: false, timedOut: true, message: `${why} while the step waited for its callback: the outcome is unknown, so the step is compensated.` };
}

/**
 * Moves the saga on from the state this decision leaves: while stopping,
 * waits for the outstanding attempts, then pauses or starts compensating;
 * running, starts what may start; compensating, compensates what may be.
 */
function advance(b: Builder): void {
  do {
    b.rerun = false;
    advanceOnce(b);
  } while (b.rerun);
}

function advanceOnce(b: Builder): void {
  const stopping = b.stopRequested();
  if (stopping) {
    if (b.anyOutstanding()) return;
    b.saga.stopRequested = null;
    if (b.status() === SagaStatus.RUNNING) {
      pause(b, stopping);
      return;
    }
    // A stop that waited for the point of no return, which then succeeded: the saga goes on (SPEC §9).
    if (b.pastPivot()) {
      b.saga.status = SagaStatus.RUNNING;
      b.saga.error = null;
      b.event(EventType.SagaStopOverruled, { data: { error: stopping, step: b.spec(b.plan.pivot!).name, message: 'The pivot succeeded while the stop waited for it; past the pivot the saga only goes forward.' } });
      forward(b);
      return;
    }
    // A cancel or deadline that waited for the point of no return, whose outcome is unknown: it cannot be undone.
    const pivot = b.plan.pivot;
    if (pivot !== null && b.state(pivot).status === StepStatus.FAILED && b.state(pivot).lastAttemptTimedOut) {
      pause(b, pivotUnknown(b, pivot, stopping));
      return;
    }
    b.event(EventType.SagaCompensating, { data: { error: stopping } });
    compensate(b);
    return;
  }
  if (b.status() === SagaStatus.RUNNING) forward(b);
  else if (b.status() === SagaStatus.COMPENSATING) compensate(b);
}

function pause(b: Builder, reason: SagaError): void {
  b.saga.status = SagaStatus.PAUSED;
  b.saga.error = reason;
  b.event(EventType.SagaPaused, { ...(reason.step ? { step: reason.step } : {}), data: { error: reason } });
}

/**
 * Forward (SPEC §2, §8): the first stage not yet succeeded runs; in a group,
 * each branch runs its first step not yet succeeded. When every stage
 * succeeded, the saga is COMPLETED.
 */
function forward(b: Builder): void {
  for (const stage of b.plan.stages) {
    let done = true;
    for (const branch of stage.branches) {
      const next = branch.find((k) => b.state(k).status !== StepStatus.SUCCEEDED);
      if (next === undefined) continue;
      done = false;
      if (b.state(next).status === StepStatus.PENDING) startStep(b, next);
      // A step that failed for good as it started (MAPPING_FAILED) stops new attempts; `advance` goes on from there.
      if (b.rerun) return;
    }
    if (!done) return;
  }
  b.saga.status = SagaStatus.COMPLETED;
  b.saga.finishedAt = b.ctx.now;
  b.event(EventType.SagaCompleted);
}

/** A step that succeeded, or whose final attempt timed out (unknown outcome), and has a compensation not yet run. */
function needsCompensation(b: Builder, index: number): boolean {
  const state = b.state(index);
  const undoable = state.status === StepStatus.SUCCEEDED || (state.status === StepStatus.FAILED && state.lastAttemptTimedOut);
  return undoable && b.spec(index).compensation !== null;
}

/**
 * Backward (SPEC §2, §8): stages in reverse; within a stage each branch
 * compensates its steps in reverse, the branches at once. A stage's
 * compensation must be complete before the one before it starts. A
 * compensation failed for good holds its branch and the stages before; the
 * saga is FAILED once nothing else can move, COMPENSATED when all is undone.
 */
function compensate(b: Builder): void {
  for (let s = b.plan.stages.length - 1; s >= 0; s--) {
    let busy = false;
    let stuck = false;
    for (const branch of b.plan.stages[s].branches) {
      for (let k = branch.length - 1; k >= 0; k--) {
        const index = branch[k];
        const state = b.state(index);
        if (state.awaiting !== null) {
          busy = true;
          break;
        }
        if (state.status === StepStatus.COMPENSATION_FAILED) {
          stuck = true;
          break;
        }
        if (needsCompensation(b, index)) {
          startCompensation(b, index);
          // A compensation that failed for good as it started (MAPPING_FAILED) holds its branch.
          if (b.state(index).status === StepStatus.COMPENSATION_FAILED) stuck = true;
          else busy = true;
          break;
        }
      }
    }
    if (busy) return;
    if (stuck) {
      const error = b.error();
      b.saga.status = SagaStatus.FAILED;
      b.event(EventType.SagaFailed, { ...(error?.step ? { step: error.step } : {}), data: { error } });
      return;
    }
  }
  b.saga.status = SagaStatus.COMPENSATED;
  b.saga.finishedAt = b.ctx.now;
  b.event(EventType.SagaCompensated, { data: { error: b.error() } });
}

function startCompensation(b: Builder, index: number): void {
  const attempt = b.state(index).compensationAttempts + 1;
  b.step(index, {
    status: StepStatus.COMPENSATING,
    compensationStatus: CompensationStatus.RUNNING,
    compensationAttempts: attempt,
    compensationStartedAt: b.ctx.now,
    compensationFinishedAt: null,
    compensationError: null,
  });
  beginAttempt(b, index, Phase.COMPENSATION, attempt);
}

/** The outstanding attempt failed: may another be made within the budget (counted since the last replay; 0 is unlimited)? */
function budgetLeft(maxAttempts: number, made: number, base: number): boolean {
  return maxAttempts === 0 || made - base < maxAttempts;
}

function attemptsText(made: number, base: number): string {
  const n = made - base;
  return `${n} attempt${n === 1 ? '' : 's'}${base > 0 ? ' since the last replay' : ''}`;
}

/**
 * SPEC §5, §8, §9. PAUSED: every step that failed for good runs again with a
 * fresh attempt budget, and the other branches resume where they stopped.
 * FAILED: every failed compensation runs again with a fresh budget, and
 * compensation goes on. COMPENSATED: a new run from the first step (new
 * idempotency keys, since they contain the run). Attempt numbers keep
 * counting within a run, so a late result of an attempt made before the
 * replay is recognised as stale. A replay restarts the saga's deadline
 * clock, unless the saga is past its pivot.
 */
function replay(ctx: DecideContext, input: ReplayInput): Decision {
  const { saga, definition } = ctx;
  const from = saga.status;
  if (input.input !== undefined && from !== SagaStatus.COMPENSATED) {
    return { outcome: 'rejected', reason: `a new input can only be given to a COMPENSATED saga (it starts a new run); this one is ${from}` };
  }
  const b = new Builder(ctx);
  const replayed = (run: number, extra: Record<string, unknown> = {}) =>
    b.event(EventType.SagaReplayed, { data: { fromStatus: from, run, reason: input.reason ?? null, by: input.by ?? null, ...extra } });
  const indexes = definition.steps.map((s) => s.index);

  switch (from) {
    case SagaStatus.PAUSED: {
      const failed = indexes.filter((i) => saga.steps[i].status === StepStatus.FAILED);
      replayed(saga.run, stepsField(b, failed));
      Object.assign(b.saga, { status: SagaStatus.RUNNING, error: null, ...(b.pastPivot() ? {} : { deadlineAt: deadlineFrom(ctx) }) });
      for (const i of failed) {
        const next = saga.steps[i].attempts + 1;
        b.step(i, { status: StepStatus.RUNNING, attempts: next, attemptBase: next - 1, finishedAt: null, error: null, lastAttemptTimedOut: false });
        beginAttempt(b, i, Phase.ACTION, next);
      }
      advance(b);
      return b.done();
    }
    case SagaStatus.FAILED: {
      const failed = indexes.filter((j) => saga.steps[j].status === StepStatus.COMPENSATION_FAILED);
      replayed(saga.run, stepsField(b, failed));
      // Back to compensating for the reason it started.
      Object.assign(b.saga, { status: SagaStatus.COMPENSATING, error: saga.error?.cause ?? saga.error, deadlineAt: deadlineFrom(ctx) });
      for (const j of failed) {
        const next = saga.steps[j].compensationAttempts + 1;
        b.step(j, {
          status: StepStatus.COMPENSATING,
          compensationStatus: CompensationStatus.RUNNING,
          compensationAttempts: next,
          attemptBase: next - 1,
          compensationFinishedAt: null,
          compensationError: null,
        });
        beginAttempt(b, j, Phase.COMPENSATION, next);
      }
      advance(b);
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
        deadlineAt: deadlineFrom(ctx),
        resetResults: true,
        ...(input.input !== undefined ? { input: input.input } : {}),
      });
      for (const i of indexes) b.step(i, PENDING_STEP);
      advance(b);
      return b.done();
    }
    default:
      return { outcome: 'rejected', reason: `a ${from} saga cannot be replayed (only PAUSED, FAILED and COMPENSATED ones can)` };
  }
}

/** The replayed steps in a SagaReplayed event: `step` for one (as before groups), `steps` for several. */
function stepsField(b: Builder, indexes: number[]): Record<string, unknown> {
  const names = indexes.map((i) => b.spec(i).name);
  return names.length === 1 ? { step: names[0] } : { steps: names };
}

/** Every field of a step as a new run starts it. */
const PENDING_STEP: StepPatch = {
  status: StepStatus.PENDING,
  awaiting: null,
  attemptBase: 0,
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
