import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DefinitionCache } from '../definitions/definition-cache.js';
import { visibleResults, type SagaPlan } from '../definitions/saga-plan.js';
import { isOutstanding } from '../engine/decide.js';
import { stepJobId, type StepJob, type StepJobData } from '../dispatch/step-job.js';
import { Phase } from '../engine/statuses.js';
import { crashPoint } from '../common/crash-points.js';
import { Carry, SagaTransitions } from '../executions/saga-transitions.js';
import type { SagaRecord } from '../executions/saga.records.js';
import { SagaRepository } from '../executions/saga.repository.js';
import { HttpAttempt } from './http-attempt.js';
import { QueueStepForwarder } from './queue-step.forwarder.js';
import type { AttemptResult, StepEnvelope } from './http-step.executor.js';

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

/** Whether the job's attempt is still one of the saga's outstanding attempts (the engine's rule, on this run). */
const outstanding = (address: StepJobData) => (s: SagaRecord) => s.run === address.run && isOutstanding(s, address);

/**
 * Runs a saga's attempts in one BullMQ job: checks the job's attempt is still
 * the saga's outstanding one (a redelivered or late job is dropped), runs it,
 * and has the engine apply the outcome. When the next attempt is an HTTP
 * attempt due now, it carries on with it in the same job: the engine's commit
 * records it (with this job as its carrier) and nothing is published. Delays,
 * queue steps, a host at its limit, the budget and shutdown hand the saga
 * back to BullMQ. Business rules stay in the engine.
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
  ) {}

  /** A stopping process finishes the attempts in flight and hands their sagas back. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async run(job: StepJobData, bull: RunnerJob = {}): Promise<void> {
    let address = job;
    let saga = await this.sagas.findOutstanding(job.sagaId, outstanding(address));
    const carriedStep = saga && !outstanding(address)(saga) && bull.id !== undefined ? saga.steps.find((t) => t.awaiting !== null && t.carrier === bull.id) : undefined;
    if (saga && carriedStep) {
      // This job carried the saga's attempts on, and runs again (its worker died, or it was deferred): take up the attempt it carried.
      const phase = carriedStep.awaiting!;
      address = { sagaId: saga.id, run: saga.run, step: carriedStep.index, phase, attempt: phase === Phase.ACTION ? carriedStep.attempts : carriedStep.compensationAttempts };
      this.logger.log({ msg: 'taking up the attempt this job carried', sagaId: saga.id, step: address.step, phase: address.phase, attempt: address.attempt });
    }
    const started = Date.now();
    let knownAt = Date.now();
    for (let carried = 0; saga && outstanding(address)(saga); carried++) {
      const definition = await this.definitions.get(saga.definitionName, saga.definitionVersion);
      const result = await this.attempt(saga, definition, address, bull, knownAt);
      if (result === 'handed-over' || result === null) return;
      const input = result.ok
        ? ({ type: 'attempt-succeeded', step: address.step, phase: address.phase, attempt: address.attempt, output: result.output } as const)
        : ({ type: 'attempt-failed', step: address.step, phase: address.phase, attempt: address.attempt, failure: result.failure } as const);
      const carry = this.carry(bull.id, carried + 1, started);
      const applied = await this.transitions.applyAttemptOutcome(address.sagaId, input, address.run, saga, carry);
      if (applied.outcome !== 'applied') {
        this.logger.log({ msg: `step result not applied (${applied.outcome}): ${applied.reason ?? ''}`, sagaId: address.sagaId, run: address.run, step: address.step, phase: address.phase, attempt: address.attempt });
      }
      if (!applied.carried) return;
      // What this process knows of the saga dates from this commit, however long it is held up after it.
      knownAt = Date.now();
      crashPoint('after-commit-before-carried-call');
      address = applied.carried.data;
      saga = await this.sagas.findOutstanding(address.sagaId, outstanding(address));
    }
    if (address === job) this.logger.debug({ msg: 'step job is no longer outstanding; dropped', sagaId: job.sagaId, stepIndex: job.step, phase: job.phase, attempt: job.attempt });
  }

  /** Whether this job may take on the next attempt: an HTTP attempt due now, within the budget, while the process runs. */
  private carry(jobId: string | undefined, done: number, started: number): Carry | undefined {
    if (jobId === undefined || this.stopping || done >= CARRY_BUDGET.attempts || Date.now() - started >= CARRY_BUDGET.ms) return undefined;
    return {
      by: jobId,
      accepts: (next: StepJob, definition: SagaPlan, now: Date) => {
        if (next.notBefore && Date.parse(next.notBefore) > now.getTime()) return false;
        const spec = definition.steps[next.data.step];
        const action = next.data.phase === Phase.ACTION ? spec?.action : spec?.compensation;
        return action?.type === 'http' && !this.stopping;
      },
    };
  }

  /** Runs one attempt: an HTTP call, or the forward of a queue step (whose result comes back later). */
  private async attempt(saga: SagaRecord, definition: SagaPlan, address: StepJobData, bull: RunnerJob, knownAt: number): Promise<AttemptResult | 'handed-over' | null> {
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
    const stillOutstanding = async () => {
      const fresh = await this.sagas.find(address.sagaId);
      return fresh !== null && outstanding(address)(fresh);
    };
    return this.http.run(saga, step, action, envelope, address, { knownAt, stillOutstanding, defer: bull.defer });
  }
}
