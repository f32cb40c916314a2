import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DefinitionCache } from '../definitions/definition-cache.js';
import { visibleResults, type SagaPlan } from '../definitions/saga-plan.js';
import { isOutstanding, outstandingAttempts } from '../engine/decide.js';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { stepJob, stepJobId, type StepJob, type StepJobData } from '../dispatch/step-job.js';
import { Phase } from '../engine/statuses.js';
import { crashPoint } from '../common/crash-points.js';
import { Carry, SagaTransitions } from '../executions/saga-transitions.js';
import type { SagaRecord } from '../executions/saga.records.js';
import { SagaRepository } from '../executions/saga.repository.js';
import { HttpAttempt } from './http-attempt.js';
import { QueueStepForwarder } from './queue-step.forwarder.js';
import type { AttemptResult, StepEnvelope } from './http-step.executor.js';
import { Waits } from '../executions/waits.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';
import { answerOutcome, type OutsideAnswer } from '../executions/outside-answers.js';
import { waitsForOutside, type SignalAction } from '../definitions/definition.model.js';
import type { PlannedStep } from '../definitions/saga-plan.js';
import { WaitTimers } from './wait-timers.js';

/**
 * How much one job may carry a saga forward before it hands the saga back to
 * BullMQ, so one long saga cannot hold a worker slot (ADR 10).
 */
export const CARRY_BUDGET = { attempts: 16, ms: 5_000 } as const;

/** The BullMQ job a runner works in: its id (a carrier's name) and how to put it back to wait. */
export interface RunnerJob {
  id?: string;
  /** Puts the job back to wait until `until` (it does not return). */
  defer?: (until: number) => Promise<never>;
}

/** What the attempts carried by one job share: how many ran, since when, and whether they fanned out into several chains. */
interface CarryBudget {
  done: number;
  started: number;
  fannedOut: boolean;
}

/** An attempt handed back to BullMQ as a job of its own (see `deferral`). */
class HandedBack extends Error {}

/** Whether the job's attempt is still one of the saga's outstanding attempts (the engine's rule, on this run). */
const outstanding = (address: StepJobData) => (s: SagaRecord) => s.run === address.run && isOutstanding(s, address);

/**
 * Runs a saga's attempts in one BullMQ job: checks the job's attempt is still
 * one of the saga's outstanding attempts (a redelivered or late job is
 * dropped), runs it, and has the engine apply the outcome. The next attempts
 * that are HTTP attempts due now (one, or a group's branches) it carries on
 * in the same job, at once: the engine's commit records them (with this job
 * as their carrier) and publishes nothing for them. Delays, queue steps, a
 * host at its limit, the budget and shutdown hand attempts back to BullMQ.
 * Business rules stay in the engine.
 */
@Injectable()
export class StepRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(StepRunner.name);
  private stopping = false;

  constructor(
    private readonly sagas: SagaRepository,
    private readonly definitions: DefinitionCache,
    private readonly transitions: SagaTransitions,
    private readonly forwarder: QueueStepForwarder,
    private readonly http: HttpAttempt,
    private readonly publisher: JobPublisher,
    private readonly waits: Waits,
    private readonly timers: WaitTimers,
    private readonly attempts: OutstandingAttempts,
  ) {}

  /** A stopping process finishes the attempts in flight and hands their sagas back. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async run(job: StepJobData, bull: RunnerJob = {}): Promise<void> {
    const saga = await this.sagas.findOutstanding(job.sagaId, outstanding(job));
    if (!saga) return;
    let starts: StepJobData[] = [job];
    if (!outstanding(job)(saga)) {
      // This job carried the saga's attempts on, and runs again (its worker died, or it was deferred): take up the attempts it carried.
      const carried = bull.id === undefined ? [] : outstandingAttempts(saga).filter((a) => saga.steps[a.step].carrier === bull.id);
      if (carried.length === 0) {
        this.logger.debug({ msg: 'step job is no longer outstanding; dropped', sagaId: job.sagaId, stepIndex: job.step, phase: job.phase, attempt: job.attempt });
        return;
      }
      starts = carried.map((a) => ({ sagaId: saga.id, run: saga.run, ...a }));
      this.logger.log({ msg: 'taking up the attempts this job carried', sagaId: saga.id, steps: starts.map((a) => `${a.step} ${a.phase} #${a.attempt}`).join(', ') });
    }
    const budget: CarryBudget = { done: 0, started: Date.now(), fannedOut: starts.length > 1 };
    const knownAt = Date.now();
    await Promise.all(starts.map((address) => this.chain(address, bull, budget, knownAt)));
  }

  /**
   * Runs `address` and, while the engine's commit hands it the next
   * attempts, carries on with them: one goes on in this chain; several (a
   * group's branches) run at once, each in a chain of its own, within the
   * job's shared budget.
   */
  private async chain(address: StepJobData, bull: RunnerJob, budget: CarryBudget, knownAt: number): Promise<void> {
    // `knownAt`: when what this process knows of the saga was true (the commit that carried the attempt on,
    // however long the process is held up after it); HttpAttempt checks again before calling when it is old.
    const saga = await this.sagas.findOutstanding(address.sagaId, outstanding(address));
    if (!saga || !outstanding(address)(saga)) return;
    const definition = await this.definitions.get(saga.definitionName, saga.definitionVersion);
    let result: AttemptResult | 'handed-over' | null;
    try {
      result = await this.attempt(saga, definition, address, this.deferral(address, bull, budget), knownAt);
    } catch (error) {
      if (error instanceof HandedBack) return;
      throw error;
    }
    if (result === 'handed-over' || result === null) return;
    const input = result.ok
      ? ({ type: 'attempt-succeeded', step: address.step, phase: address.phase, attempt: address.attempt, output: result.output } as const)
      : ({ type: 'attempt-failed', step: address.step, phase: address.phase, attempt: address.attempt, failure: result.failure } as const);
    budget.done++;
    const applied = await this.transitions.applyAttemptOutcome(address.sagaId, input, address.run, saga, this.carry(bull.id, budget));
    if (applied.outcome !== 'applied') {
      this.logger.log({ msg: `step result not applied (${applied.outcome}): ${applied.reason ?? ''}`, sagaId: address.sagaId, run: address.run, step: address.step, phase: address.phase, attempt: address.attempt });
    }
    const next = applied.carried ?? [];
    if (next.length === 0) return;
    const committedAt = Date.now();
    crashPoint('after-commit-before-carried-call');
    if (next.length > 1) budget.fannedOut = true;
    await Promise.all(next.map((job) => this.chain(job.data, bull, budget, committedAt)));
  }

  /**
   * How an attempt whose host may not be called now waits: the job is put
   * back to wait (BullMQ's delayed job) while it carries one chain; once it
   * carries several, the attempt is handed to BullMQ as a job of its own
   * (putting the job back would take the other chains' attempts with it).
   */
  private deferral(address: StepJobData, bull: RunnerJob, budget: CarryBudget): ((until: number) => Promise<never>) | undefined {
    if (!budget.fannedOut) return bull.defer;
    return async (until: number) => {
      const { sagaId, run, step, phase, attempt } = address;
      await this.publisher.publish([stepJob(sagaId, run, { type: 'dispatch', step, phase, attempt, notBefore: new Date(until) })]);
      throw new HandedBack();
    };
  }

  /** Whether this job may take on the next attempts: HTTP attempts due now, within the budget, while the process runs. */
  private carry(jobId: string | undefined, budget: CarryBudget): Carry | undefined {
    if (jobId === undefined || this.stopping || budget.done >= CARRY_BUDGET.attempts || Date.now() - budget.started >= CARRY_BUDGET.ms) return undefined;
    return {
      by: jobId,
      max: CARRY_BUDGET.attempts - budget.done,
      accepts: (next: StepJob, definition: SagaPlan, now: Date) => {
        if (next.notBefore && Date.parse(next.notBefore) > now.getTime()) return false;
        const spec = definition.steps[next.data.step];
        const action = next.data.phase === Phase.ACTION ? spec?.action : spec?.compensation;
        // Callback and signal steps wait for the outside world: they go back to BullMQ (SPEC §2).
        return action?.type === 'http' && !waitsForOutside(action) && !this.stopping;
      },
    };
  }

  /** Runs one attempt: an HTTP call, or the forward of a queue step (whose result comes back later). */
  private async attempt(
    saga: SagaRecord,
    definition: SagaPlan,
    address: StepJobData,
    defer: ((until: number) => Promise<never>) | undefined,
    knownAt: number,
  ): Promise<AttemptResult | 'handed-over' | null> {
    const step = definition.steps[address.step];
    if (saga.stopRequested && address.phase === Phase.ACTION) {
      // Cancelled (or past its deadline) before this attempt began: do not call the participant.
      return { ok: false, failure: { retryable: false, timedOut: false, skipped: true, message: 'Not attempted: the saga was stopped first.' } };
    }
    const action = address.phase === Phase.ACTION ? step.action : step.compensation!;
    const envelope: StepEnvelope = {
      sagaId: saga.id,
      run: saga.run,
      step: step.name,
      phase: address.phase,
      attempt: address.attempt,
      idempotencyKey: `${saga.id}:${saga.run}:${step.name}:${address.phase}`,
      input: saga.input,
      // An action sees the outputs before it (SPEC §8: not a sibling branch's); a compensation sees every output, its own step's included.
      results: address.phase === Phase.ACTION ? visibleResults(definition, address.step, saga.results) : saga.results,
    };
    if (action.type === 'queue') {
      // The participant's worker reports to the results queue; a timer ends the attempt if it does not.
      await this.forwarder.forward(action.queue, action.task, stepJobId(address), envelope, address, step.timeoutMs);
      return 'handed-over';
    }
    if (action.type === 'signal') return this.waitForSignal(saga, step, action, address);
    const stillOutstanding = async () => {
      const fresh = await this.sagas.find(address.sagaId);
      return fresh !== null && outstanding(address)(fresh);
    };
    const result = await this.http.run(saga, step, action, envelope, address, { knownAt, stillOutstanding, defer });
    return result === 'acknowledged' ? 'handed-over' : result;
  }

  /**
   * A signal step (SPEC §10): a signal that came before the step started is
   * taken now; otherwise the attempt waits, marked so, until the signal
   * arrives (the API applies it) or its deadline passes (the timer, or the
   * reconciler from Postgres).
   */
  private async waitForSignal(saga: SagaRecord, step: PlannedStep, action: SignalAction, address: StepJobData): Promise<AttemptResult | 'handed-over' | null> {
    const kept = await this.waits.takeSignal(saga.id, saga.run, action.signal, address.attempt);
    if (kept) {
      const outcome = answerOutcome(kept.body as OutsideAnswer, address, { signal: action.signal });
      return outcome.type === 'attempt-succeeded' ? { ok: true, output: outcome.output } : { ok: false, failure: outcome.failure };
    }
    if (!(await this.attempts.markWaiting(address, 'signal'))) return null;
    await this.timers.arm(address, step.timeoutMs);
    return 'handed-over';
  }
}
