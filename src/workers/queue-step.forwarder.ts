import { Injectable } from '@nestjs/common';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { TIMERS_QUEUE, type StepJobData } from '../dispatch/step-job.js';
import type { SagaTask, StepEnvelope } from '../participant/protocol.js';

const KEEP = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 };

/** Hands a queue step's attempt to its participant's BullMQ queue, and arms its timeout. */
@Injectable()
export class QueueStepForwarder {
  constructor(private readonly publisher: JobPublisher) {}

  async forward(queue: string, task: string, jobId: string, envelope: StepEnvelope, address: StepJobData, timeoutMs: number): Promise<void> {
    const payload: SagaTask = { ...envelope, task };
    // Same job id for the same attempt: a re-forward after a crash adds nothing.
    await this.publisher.queue(queue).add(task, payload, { jobId, ...KEEP });
    await this.publisher.queue(TIMERS_QUEUE).add('timeout', address, { jobId: `timeout.${jobId}`, delay: timeoutMs, ...KEEP });
  }
}
