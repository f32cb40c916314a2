import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Worker, type Job } from 'bullmq';
import { AppConfig } from '../config/app-config.js';
import { withDeadline } from '../common/with-deadline.js';
import { CLOSE_DEADLINE_MS, JobPublisher } from '../dispatch/job-publisher.js';
import { STEPS_QUEUE, StepJobData } from '../dispatch/step-job.js';
import { logOncePerOutage } from './log-once-per-outage.js';
import { StepRunner } from './step-runner.js';

/** Step attempts run at once per worker process (most of their time is spent waiting on participants). */
const CONCURRENCY = 64;

/** The BullMQ processor of the steps queue: parse, run, done. */
@Injectable()
export class StepWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StepWorker.name);
  private worker: Worker | null = null;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly publisher: JobPublisher,
    private readonly runner: StepRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<StepJobData>(STEPS_QUEUE, (job, token) => this.runner.run(job.data, { id: job.id, defer: (until) => this.defer(job, token, until) }), {
      connection: this.publisher.connection,
      prefix: this.config.redisPrefix,
      concurrency: CONCURRENCY,
      // A worker that dies mid-attempt loses its lock after 10 s; the attempt then runs again
      // (same idempotency key). Locks are renewed while an attempt runs, however long.
      lockDuration: 10_000,
      stalledInterval: 5_000,
    });
    this.worker.on('failed', (job, error) => this.logger.warn(`step job ${job?.id} failed: ${error.message}`));
    this.worker.on('error', logOncePerOutage(this.logger, this.worker, 'steps worker'));
  }

  /** Puts the job back to wait until `until`, keeping its attempt: BullMQ's delayed-job protocol. */
  private async defer(job: Job<StepJobData>, token: string | undefined, until: number): Promise<never> {
    await job.moveToDelayed(until, token);
    throw new DelayedError();
  }

  async onApplicationShutdown(): Promise<void> {
    // A worker that cannot reach Redis would wait forever; in-flight attempts are re-run by the reconciler.
    if (this.worker && !(await withDeadline(this.worker.close(), CLOSE_DEADLINE_MS))) await withDeadline(this.worker.close(true), CLOSE_DEADLINE_MS);
  }
}
