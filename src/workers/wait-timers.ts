import { Injectable } from '@nestjs/common';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { stepJobId, TIMERS_QUEUE, type StepJobData } from '../dispatch/step-job.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';

const KEEP = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 24 * 3600 }, attempts: 1 };

/**
 * The timers of attempts that wait for the outside world (callbacks,
 * signals; SPEC §10). The deadline is in Postgres from the dispatch (see
 * stepJob), and the reconciler ends an attempt past it whatever Redis holds:
 * the delayed job in the timers queue only makes the timeout punctual.
 */
@Injectable()
export class WaitTimers {
  constructor(
    private readonly publisher: JobPublisher,
    private readonly attempts: OutstandingAttempts,
  ) {}

  /** Arms the attempt's timer at its stored deadline (arming one, from now, for a job re-published without it). */
  async arm(address: StepJobData, timeoutMs: number): Promise<void> {
    const deadline = address.deadline ? new Date(address.deadline) : await this.attempts.armDeadline(address, new Date(Date.now() + timeoutMs));
    if (!deadline) return;
    const { sagaId, run, step, phase, attempt } = address;
    await this.publisher
      .queue(TIMERS_QUEUE)
      .add('timeout', { sagaId, run, step, phase, attempt }, { jobId: `timeout.${stepJobId(address)}`, delay: Math.max(0, deadline.getTime() - Date.now()), ...KEEP });
  }
}
