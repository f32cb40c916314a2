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
  /** The next attempt, recorded as carried on by the worker that asked (it runs it now). */
  carried?: StepJob;
}

/**
 * A worker offering to run the saga's next attempt itself, in the same
 * BullMQ job (eager steps, ADR 10). When the decision dispatches exactly one
 * attempt and `accepts` it, the attempt is recorded with `by` as its carrier
 * in the same commit, and not published.
 */
export interface Carry {
  /** The BullMQ job id whose worker carries the attempt on. */
  by: string;
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
  ): Promise<ApplyResult> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const record = attempt === 1 && preloaded ? preloaded : await this.sagas.find(sagaId);
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
      // One next attempt goes to the worker that asked, when it takes it; it is recorded, not published.
      // The others (a group's further branches) are published, so they run at once on other workers.
      const taken = carry ? jobs.find((job) => carry.accepts(job, definition, now)) : undefined;
      const carried = taken ? { job: taken, by: carry!.by } : null;
      if (taken) jobs = jobs.filter((job) => job !== taken);
      const { saga, steps, results, events } = decision;
      const outboxIds = await this.sagas.update(record, { saga, steps, results, events, jobs, carried, now });
      if (outboxIds === null) continue;
      if (jobs.length > 0) crashPoint('after-commit-before-publish');
      await this.outbox.publishCommitted(outboxIds, jobs);
      if (decision.saga.status && isSettled(decision.saga.status)) this.settledSagas.settled(sagaId);
      this.count(record.definitionName, decision);
      this.trace(record, decision);
      return carried ? { outcome: 'applied', carried: carried.job } : { outcome: 'applied' };
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
  async applyAttemptOutcome(sagaId: string, reported: AttemptOutcome, run: number, preloaded?: SagaRecord, carry?: Carry): Promise<ApplyResult> {
    const outcome = storableOutcome(reported);
    try {
      return await this.apply(sagaId, outcome, run, preloaded, APPLY_ATTEMPTS, carry);
    } catch (error) {
      if (!isValueRejected(error) && !(error instanceof RangeError)) throw error;
      this.logger.warn({ msg: `an attempt's outcome could not be stored; the attempt fails for good: ${(error as Error).message}`, sagaId, run, step: outcome.step, phase: outcome.phase, attempt: outcome.attempt });
      return this.apply(sagaId, unstorableOutcome(outcome, (error as Error).message), run);
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
    })),
  };
}

