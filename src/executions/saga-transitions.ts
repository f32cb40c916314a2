import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/app-error.js';
import { crashPoint } from '../common/crash-points.js';
import { DefinitionCache } from '../definitions/definition-cache.js';
import type { SagaPlan } from '../definitions/saga-plan.js';
import { isValueRejected } from '../database/database-errors.js';
import { Outbox } from '../dispatch/outbox.js';
import { stepJob, type StepJob } from '../dispatch/step-job.js';
import { decide } from '../engine/decide.js';
import type { Decision, EngineInput, SagaSnapshot } from '../engine/saga-state.js';
import { EventType, isSettled } from '../engine/statuses.js';
import { Metrics } from '../metrics/metrics.js';
import { SagaTracing } from '../tracing/saga-tracing.js';
import type { SagaRecord } from './saga.records.js';
import { SagaRepository } from './saga.repository.js';
import { SettledSagas } from './settled-sagas.js';
import { AttemptOutcome, storableOutcome, unstorableOutcome } from './storable-outcome.js';

/** How often a transition is re-read and re-decided when another writer moved the saga first. */
const APPLY_ATTEMPTS = 20;

export type ApplyOutcome = 'applied' | 'stale' | 'rejected' | 'missing';

export interface ApplyResult {
  outcome: ApplyOutcome | 'conflict';
  reason?: string;
  /** A rejection that is not a plain state conflict (PAST_PIVOT). */
  code?: 'PAST_PIVOT';
  /** The next attempts, recorded as carried on by the worker that asked (it runs them now, at once). */
  carried?: StepJob[];
}

/**
 * A worker offering to run the saga's next attempts itself, in the same
 * BullMQ job (eager steps, ADR 10 and 12). The attempts the decision
 * dispatches that `accepts` takes (at most `max`) are recorded with `by` as
 * their carrier in the same commit, and not published; the others are.
 */
export interface Carry {
  /** The BullMQ job id whose worker carries the attempts on. */
  by: string;
  /** How many attempts it takes on at most (a group's branches run at once). */
  max: number;
  accepts(job: StepJob, definition: SagaPlan, now: Date): boolean;
}

/**
 * Saga transitions: an input (an attempt's outcome, a cancel, a replay, a
 * deadline) fed to the engine and its decision stored with the version
 * guard. What the workers use; ExecutionsService keeps start, cancel and
 * replay, which go through here too.
 */
@Injectable()
export class SagaTransitions {
  private readonly logger = new Logger(SagaTransitions.name);
  /** The last transition of each saga under way in this process (see `oneAtATime`). */
  private readonly inProgress = new Map<string, Promise<void>>();

  constructor(
    private readonly sagas: SagaRepository,
    private readonly definitionCache: DefinitionCache,
    private readonly outbox: Outbox,
    private readonly metrics: Metrics,
    private readonly tracing: SagaTracing,
    private readonly settledSagas: SettledSagas,
  ) {}

  /**
   * Feeds one input to the engine and stores the decision, re-reading and
   * re-deciding when another writer moved the saga first (the version guard).
   * Stale inputs (or, with `expectedRun`, inputs of an earlier run) change nothing.
   */
  async apply(
    sagaId: string,
    input: EngineInput,
    expectedRun?: number,
    /** The saga as the caller just read it: saves a query; a stale copy only costs a retry. */
    preloaded?: SagaRecord,
    /** 1: an operator's command that must not be re-decided on a newer state (see `replay`). */
    attempts = APPLY_ATTEMPTS,
    /** A worker that may run the next attempt itself (eager steps): see `Carry`. */
    carry?: Carry,
    /** The hash of the callback token whose answer `input` is: marked applied with the decision. */
    answered?: Buffer,
  ): Promise<ApplyResult> {
    return this.oneAtATime(sagaId, () => this.decideAndStore(sagaId, input, expectedRun, preloaded, attempts, carry, answered));
  }

  /**
   * Transitions of one saga in this process run one after the other (the
   * branches of a group finishing at once, carried by one worker): each
   * decides on the copy the previous one wrote, instead of losing the
   * version guard to it and reading the saga again. Other processes are
   * kept out by the guard, as before.
   */
  private oneAtATime<T>(sagaId: string, work: () => Promise<T>): Promise<T> {
    const before = this.inProgress.get(sagaId);
    const result = before ? before.then(work, work) : work();
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.inProgress.set(sagaId, settled);
    void settled.then(() => {
      if (this.inProgress.get(sagaId) === settled) this.inProgress.delete(sagaId);
    });
    return result;
  }

  private async decideAndStore(
    sagaId: string,
    input: EngineInput,
    expectedRun: number | undefined,
    preloaded: SagaRecord | undefined,
    attempts: number,
    carry: Carry | undefined,
    answered: Buffer | undefined,
  ): Promise<ApplyResult> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // A copy this process wrote since the caller's read (another transition of the saga ran first) is newer.
      const record = attempt === 1 && preloaded ? this.sagas.newest(preloaded) : await this.sagas.find(sagaId);
      if (!record) return { outcome: 'missing' };
      if (expectedRun !== undefined && record.run !== expectedRun) return { outcome: 'stale', reason: `saga is on run ${record.run}` };
      const definition = await this.definitionCache.get(record.definitionName, record.definitionVersion);
      const now = new Date();
      const decision = decide({ definition, saga: snapshotOf(record), now, random: Math.random }, input);
      if (decision.outcome !== 'applied') {
        if (decision.outcome === 'stale') {
          this.metrics.staleResults.inc();
          this.logger.debug({ msg: `${input.type} dropped as stale: ${decision.reason}`, sagaId });
        }
        return decision.outcome === 'rejected' && decision.code ? { outcome: 'rejected', reason: decision.reason, code: decision.code } : { outcome: decision.outcome, reason: decision.reason };
      }
      let jobs = decision.commands.map((c) => stepJob(sagaId, decision.saga.run ?? record.run, c, definition, now));
      // The next attempts go to the worker that asked, those it takes (a group's branches at once); they are
      // recorded, not published. The others are published, so they run on any worker.
      const taken = carry ? jobs.filter((job) => carry.accepts(job, definition, now)).slice(0, carry.max) : [];
      const carried = taken.length > 0 ? { jobs: taken, by: carry!.by } : null;
      if (carried) jobs = jobs.filter((job) => !taken.includes(job));
      const { saga, steps, results, events } = decision;
      const outboxIds = await this.sagas.update(record, { saga, steps, results, events, jobs, carried, now, answered });
      if (outboxIds === null) continue;
      if (jobs.length > 0) crashPoint('after-commit-before-publish');
      await this.outbox.publishCommitted(outboxIds, jobs);
      if (decision.saga.status && isSettled(decision.saga.status)) this.settledSagas.settled(sagaId);
      this.count(record.definitionName, decision);
      this.trace(record, decision);
      return carried ? { outcome: 'applied', carried: carried.jobs } : { outcome: 'applied' };
    }
    if (attempts < APPLY_ATTEMPTS) return { outcome: 'conflict', reason: 'another request changed the saga first' };
    throw new AppError(ErrorCode.CONCURRENT_UPDATE, `Saga ${sagaId} kept changing under this update; retry.`);
  }

  /**
   * Applies what a participant reported for an attempt. Whatever it sent ends
   * as an outcome that can be stored: an output that cannot be kept as sent
   * fails the step for good (storableOutcome). Should Postgres still refuse
   * a value, the attempt fails for good once, with the reason, instead of
   * throwing: a throw here would leave the attempt outstanding and the
   * reconciler would run it again, without bound.
   */
  async applyAttemptOutcome(sagaId: string, reported: AttemptOutcome, run: number, preloaded?: SagaRecord, carry?: Carry, answered?: Buffer): Promise<ApplyResult> {
    const outcome = storableOutcome(reported);
    try {
      return await this.apply(sagaId, outcome, run, preloaded, APPLY_ATTEMPTS, carry, answered);
    } catch (error) {
      if (!isValueRejected(error) && !(error instanceof RangeError)) throw error;
      this.logger.warn({ msg: `an attempt's outcome could not be stored; the attempt fails for good: ${(error as Error).message}`, sagaId, run, step: outcome.step, phase: outcome.phase, attempt: outcome.attempt });
      return this.apply(sagaId, unstorableOutcome(outcome, (error as Error).message), run, undefined, APPLY_ATTEMPTS, undefined, answered);
    }
  }

  /** Counts what an applied decision did: runs started, sagas settled, retries scheduled. */
  private count(definition: string, decision: Extract<Decision, { outcome: 'applied' }>): void {
    const status = decision.saga.status;
    if (status && isSettled(status)) this.metrics.sagasSettled.inc({ definition, status });
    if (decision.saga.run !== undefined) this.metrics.sagasStarted.inc({ definition });
    for (const e of decision.events) {
      if (e.type === EventType.StepRetryScheduled) this.metrics.stepRetries.inc({ definition, step: e.step ?? '', phase: e.phase ?? '' });
    }
  }

  /** A new run starts a trace; a settled run closes it with a span of its status. */
  private trace(record: SagaRecord, decision: Extract<Decision, { outcome: 'applied' }>): void {
    if (!this.tracing.enabled) return;
    const run = decision.saga.run ?? record.run;
    const saga = { id: record.id, run, definition: record.definitionName, version: record.definitionVersion };
    if (decision.saga.run !== undefined) this.tracing.runStarted(saga);
    if (decision.saga.status && isSettled(decision.saga.status)) this.tracing.runSettled(saga, decision.saga.status);
  }
}

export function snapshotOf(record: SagaRecord): SagaSnapshot {
  return {
    id: record.id,
    input: record.input,
    results: record.results,
    correlationId: record.correlationId,
    status: record.status,
    run: record.run,
    stopRequested: record.stopRequested,
    error: record.error,
    steps: record.steps.map((s) => ({
      status: s.status,
      attempts: s.attempts,
      lastAttemptTimedOut: s.lastAttemptTimedOut,
      compensationStatus: s.compensationStatus,
      compensationAttempts: s.compensationAttempts,
      awaiting: s.awaiting,
      attemptBase: s.attemptBase,
      waiting: s.waiting,
    })),
  };
}

