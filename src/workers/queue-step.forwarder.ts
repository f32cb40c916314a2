import { Injectable, Logger } from '@nestjs/common';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { TIMERS_QUEUE, type StepJobData } from '../dispatch/step-job.js';
import type { EngineInput } from '../engine/saga-state.js';
import { SagaRepository } from '../executions/saga.repository.js';
import type { SagaTask, StepEnvelope } from '../participant/protocol.js';

const KEEP = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 };

/** What ends a queue step's attempt that reported nothing by its deadline (timer job or reconciler). */
export function queueAttemptTimedOut(address: StepJobData): EngineInput {
  return {
    type: 'attempt-failed',
    step: address.step,
    phase: address.phase,
    attempt: address.attempt,
    failure: { retryable: true, timedOut: true, message: 'The participant reported no result within the step timeout.' },
  };
}

/**
 * Hands a queue step's attempt to its participant's BullMQ queue and arms its
 * timeout: the deadline is stored in Postgres first (so it survives Redis
 * losing the timer), then a delayed timer job ends the attempt on time.
 */
@Injectable()
export class QueueStepForwarder {
  private readonly logger = new Logger(QueueStepForwarder.name);

  constructor(
    private readonly publisher: JobPublisher,
    private readonly sagas: SagaRepository,
  ) {}

  async forward(queue: string, task: string, jobId: string, envelope: StepEnvelope, address: StepJobData, timeoutMs: number): Promise<void> {
    // A re-forward (after Redis lost the job) keeps the first deadline: the attempt's clock does not restart.
    const deadline = await this.sagas.armAttemptDeadline(address, new Date(Date.now() + timeoutMs));
    if (!deadline) {
      this.logger.debug(`${jobId} is no longer outstanding; not forwarded`);
      return;
    }
    const payload: SagaTask = { ...envelope, task };
    // Same job id for the same attempt: a re-forward after a crash adds nothing. The task and its
    // timer go at once: either may be lost alone (the timer, or the reconciler, ends the attempt).
    const delay = Math.max(0, deadline.getTime() - Date.now());
    await Promise.all([
      this.publisher.queue(queue).add(task, payload, { jobId, ...KEEP }),
      this.publisher.queue(TIMERS_QUEUE).add('timeout', address, { jobId: `timeout.${jobId}`, delay, ...KEEP }),
    ]);
  }
}
