import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'bullmq';
import { AppConfig } from '../config/app-config.js';
import { withDeadline } from '../common/with-deadline.js';
import { CLOSE_DEADLINE_MS, JobPublisher } from '../dispatch/job-publisher.js';
import { attemptTimedOut, TIMERS_QUEUE, type StepJobData } from '../dispatch/step-job.js';
import { isOutstanding } from '../engine/decide.js';
import { SagaTransitions } from '../executions/saga-transitions.js';
import type { SagaRecord } from '../executions/saga.records.js';
import { SagaRepository } from '../executions/saga.repository.js';
import { Waits } from '../executions/waits.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';
import { RESULTS_QUEUE, type SagaTaskResult } from '../participant/protocol.js';
import { logOncePerOutage } from './log-once-per-outage.js';

/**
 * Applies what queue-step participants report (results queue) and ends
 * queue-step attempts that reported nothing in time (timers queue).
 */
@Injectable()
export class ResultsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ResultsWorker.name);
  private workers: Worker[] = [];

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly publisher: JobPublisher,
    private readonly sagas: SagaRepository,
    private readonly transitions: SagaTransitions,
    private readonly waits: Waits,
    private readonly attempts: OutstandingAttempts,
  ) {}

  onApplicationBootstrap(): void {
    const options = { connection: this.publisher.connection, prefix: this.config.redisPrefix, concurrency: 32 };
    this.workers = [
      new Worker<SagaTaskResult>(RESULTS_QUEUE, (job) => this.applyResult(job.data), options),
      new Worker<StepJobData>(TIMERS_QUEUE, (job) => this.applyTimeout(job.data), options),
    ];
    for (const w of this.workers) w.on('error', logOncePerOutage(this.logger, w, `${w.name} worker`));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (!(await withDeadline(w.close(), CLOSE_DEADLINE_MS))) await withDeadline(w.close(true), CLOSE_DEADLINE_MS);
      }),
    );
  }

  private async applyResult(result: SagaTaskResult): Promise<void> {
    const addressIn = (s: SagaRecord) => {
      const step = s.steps.findIndex((t) => t.name === result.step);
      return step < 0 ? null : { step, phase: result.phase, attempt: result.attempt };
    };
    const saga = await this.sagas.findOutstanding(result.sagaId, (s) => {
      const address = addressIn(s);
      return s.run === result.run && address !== null && isOutstanding(s, address);
    });
    if (!saga || saga.run !== result.run) return;
    const address = addressIn(saga);
    // A step this saga does not have: nothing to apply (the engine would call it stale anyway).
    if (!address) return;
    const { outcome } = result;
    if (outcome.ok === 'later') {
      // Acknowledged (SPEC §10): the attempt now waits for POST /v1/callbacks/{token}, until its deadline.
      const hash = typeof outcome.callbackTokenHash === 'string' && /^[0-9a-f]{64}$/.test(outcome.callbackTokenHash) ? Buffer.from(outcome.callbackTokenHash, 'hex') : null;
      const bound = { sagaId: result.sagaId, run: result.run, ...address };
      if (hash && (await this.waits.bindCallback(bound, hash))) await this.attempts.markWaiting(bound, 'callback');
      else if (!hash) {
        const failure = { retryable: false, timedOut: false, message: 'The participant acknowledged the task with a malformed callback token hash.' };
        await this.transitions.applyAttemptOutcome(result.sagaId, { type: 'attempt-failed', ...address, failure }, result.run, saga);
      }
      return;
    }
    // Size, and what Postgres cannot store, are checked where every participant's reply is (storableOutcome).
    const input = outcome.ok
      ? { type: 'attempt-succeeded' as const, ...address, output: outcome.output }
      : { type: 'attempt-failed' as const, ...address, failure: { retryable: outcome.retryable === true, timedOut: false, message: String(outcome.message) } };
    await this.transitions.applyAttemptOutcome(result.sagaId, input, result.run, saga);
  }

  private async applyTimeout(address: StepJobData): Promise<void> {
    // Stale when the result came first: the engine drops it.
    await this.transitions.apply(address.sagaId, attemptTimedOut(address), address.run);
  }
}
