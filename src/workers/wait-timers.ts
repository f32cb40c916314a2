import { Injectable } from '@nestjs/common';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { KEEP_FINISHED_JOBS, TIMERS_QUEUE, timerJobId, type StepJobData } from '../dispatch/step-job.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';

/**
 * The timers of attempts whose outcome comes from elsewhere (queue steps;
 * callbacks and signals, SPEC §10). The deadline is in Postgres from the
 * dispatch (see stepJob), and the reconciler ends an attempt past it whatever
 * Redis holds: the delayed job in the timers queue only makes the timeout
 * punctual.
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
    await this.schedule(address, deadline);
  }

  /** The timer job of `address` at `deadline` (the same id for the same attempt, so adding it again adds nothing). */
  async schedule(address: StepJobData, deadline: Date): Promise<void> {
    const { sagaId, run, step, phase, attempt } = address;
    await this.publisher
      .queue(TIMERS_QUEUE)
      .add('timeout', { sagaId, run, step, phase, attempt }, { jobId: timerJobId(address), delay: Math.max(0, deadline.getTime() - Date.now()), ...KEEP_FINISHED_JOBS });
  }
}
