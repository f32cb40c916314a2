import { Injectable, Logger } from '@nestjs/common';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { KEEP_FINISHED_JOBS, type StepJobData } from '../dispatch/step-job.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';
import { WaitTimers } from './wait-timers.js';
import type { SagaTask, StepEnvelope } from '../participant/protocol.js';

/** A forward this much later than its attempt was due moves the deadline, so the participant still gets its whole timeout. */
export const LATE_FORWARD_MS = 1_000;

/**
 * Hands a queue step's attempt to its participant's BullMQ queue, with a
 * delayed timer job that ends the attempt at its deadline. The deadline is
 * in Postgres before the task leaves (so it survives Redis losing the
 * timer): the transaction that dispatched the attempt stored it as due time
 * + timeoutMs, and a forward over LATE_FORWARD_MS late (a backlog in our own
 * queue) moves it to forward time + timeoutMs with one guarded write. A job
 * without one (re-published by the reconciler) arms it here, keeping any
 * stored deadline.
 */
@Injectable()
export class QueueStepForwarder {
  private readonly logger = new Logger(QueueStepForwarder.name);

  constructor(
    private readonly publisher: JobPublisher,
    private readonly attempts: OutstandingAttempts,
    private readonly timers: WaitTimers,
  ) {}

  async forward(queue: string, task: string, jobId: string, envelope: StepEnvelope, address: StepJobData, timeoutMs: number): Promise<void> {
    const now = Date.now();
    const armed = address.deadline ? Date.parse(address.deadline) : null;
    const deadline =
      armed === null
        ? // A re-forward (after Redis lost the job) keeps the first deadline: the attempt's clock does not restart.
          await this.attempts.armDeadline(address, new Date(now + timeoutMs))
        : now - (armed - timeoutMs) > LATE_FORWARD_MS
          ? await this.attempts.armDeadline(address, new Date(now + timeoutMs), true)
          : new Date(armed);
    if (!deadline) {
      this.logger.debug(`${jobId} is no longer outstanding; not forwarded`);
      return;
    }
    const payload: SagaTask = { ...envelope, task };
    // Same job id for the same attempt: a re-forward after a crash adds nothing. The task and its
    // timer go at once: either may be lost alone (the timer, or the reconciler, ends the attempt).
    await Promise.all([this.publisher.queue(queue).add(task, payload, { jobId, ...KEEP_FINISHED_JOBS }), this.timers.schedule(address, deadline)]);
  }
}
