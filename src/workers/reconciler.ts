import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { attemptTimedOut, STEPS_QUEUE, stepJob, timerJobId, TIMERS_QUEUE, type StepJob } from '../dispatch/step-job.js';
import { DefinitionCache } from '../definitions/definition-cache.js';
import { SagaTransitions } from '../executions/saga-transitions.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';
import { Metrics } from '../metrics/metrics.js';
import { Waits } from '../executions/waits.js';
import { WaitAnswers } from '../executions/wait-answers.js';
import type { OutsideAnswer } from '../executions/outside-answers.js';

const BATCH = 200;
/** The timer job normally ends an attempt at its deadline; the reconciler steps in after this much more. */
const TIMER_GRACE_MS = 1_000;


/**
 * Makes Postgres win over Redis. Every interval it (1) applies the deadline of
 * sagas past it, (2) ends attempts past their stored deadline (queue,
 * callback and signal steps, whose timer job was lost or is late), (4)
 * delivers callbacks and signals a dead process left, and (3) finds sagas waiting on an attempt whose job is
 * neither in the outbox nor in BullMQ, nor carried on by a job that is
 * (Redis flushed or restarted without persistence, a job that failed before
 * reporting, a carrier whose job is gone) and publishes it again
 * under the same job id. Sagas are claimed with FOR UPDATE SKIP LOCKED and
 * leased by moving `dispatched_at`, so instances running it at once split
 * the work instead of repeating it.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Reconciler.name);
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly publisher: JobPublisher,
    private readonly transitions: SagaTransitions,
    private readonly definitions: DefinitionCache,
    private readonly attempts: OutstandingAttempts,
    private readonly metrics: Metrics,
    private readonly waits: Waits,
    private readonly answers: WaitAnswers,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      try {
        await this.runOnce();
      } catch (error) {
        this.logger.warn(`reconcile pass failed: ${(error as Error).message}`);
      }
      this.schedule();
    }, this.config.reconcileIntervalMs);
  }

  /** One pass; returns how many saga and attempt deadlines it applied, jobs it re-published and answers it delivered. */
  async runOnce(): Promise<{ deadlines: number; attemptTimeouts: number; redispatched: number; answers: number }> {
    return {
      deadlines: await this.applyDeadlines(),
      attemptTimeouts: await this.applyAttemptDeadlines(),
      redispatched: await this.redispatchMissing(),
      answers: await this.deliverAnswers(),
    };
  }

  /**
   * Callbacks recorded but not applied (the process that took them died in
   * between) are applied, or marked rejected; signals kept while their step
   * did not wait yet are handed to it if it waits now (its job may have
   * been lost before it looked), and a signal taken by a waiting attempt
   * that was not applied (its process died in between) is applied. All are
   * safe to repeat.
   */
  private async deliverAnswers(): Promise<number> {
    const ageMs = 2 * this.config.reconcileIntervalMs;
    let delivered = 0;
    for (const row of await this.waits.unappliedAnswers(ageMs, BATCH)) {
      await this.answers.applyAnswer(row, row.hash, row.answer as OutsideAnswer);
      delivered++;
    }
    for (const { sagaId, name } of await this.waits.undeliveredSignals(ageMs, BATCH)) await this.answers.deliverSignal(sagaId, name);
    if (delivered) this.logger.warn(`applied ${delivered} callback(s) whose process stopped before applying them`);
    return delivered;
  }

  /**
   * Ends attempts past their stored deadline whose timer job did not (Redis
   * lost it): queue steps, and callback and signal steps waiting up to 30 days. Instances running this at once may pick the same
   * attempt; the guarded transition applies it once and drops the other as stale.
   */
  private async applyAttemptDeadlines(): Promise<number> {
    let applied = 0;
    for (const address of await this.attempts.overdue(TIMER_GRACE_MS, BATCH)) {
      if ((await this.transitions.apply(address.sagaId, attemptTimedOut(address), address.run)).outcome === 'applied') applied++;
    }
    if (applied) {
      this.metrics.reconcilerDeadlines.inc({ kind: 'attempt' }, applied);
      this.logger.warn(`ended ${applied} attempt(s) past their deadline whose timer was missing from Redis`);
    }
    return applied;
  }

  /**
   * The attempt's job is waiting or running, or the job that carries it on
   * is (a live worker in a slow call renews that job's lock, so the attempt
   * is not run twice); a finished one whose result never landed is removed.
   */
  private async httpStepInPlace(jobId: string, carrier: string | null): Promise<boolean> {
    const queue = this.publisher.queue(STEPS_QUEUE);
    if (carrier !== null && ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'].includes(await queue.getJobState(carrier))) return true;
    const state = await queue.getJobState(jobId);
    if (state !== 'unknown' && state !== 'completed' && state !== 'failed') return true;
    if (state !== 'unknown') await queue.remove(jobId);
    return false;
  }

  /**
   * A forwarded queue step is covered while its timeout timer is pending (the
   * result or the timer will end the attempt). Otherwise the attempt is
   * forwarded again: the participant's job is kept when it is still there
   * (same id), and the timer is armed anew.
   */
  private async queueStepInPlace(queueName: string, { jobId, data }: StepJob): Promise<boolean> {
    const timers = this.publisher.queue(TIMERS_QUEUE);
    const timerId = timerJobId(data);
    const timer = await timers.getJobState(timerId);
    if (timer === 'delayed' || timer === 'waiting' || timer === 'active') return true;
    const task = this.publisher.queue(queueName);
    if ((await task.getJobState(jobId)) === 'failed') await task.remove(jobId);
    if (timer !== 'unknown') await timers.remove(timerId);
    const steps = this.publisher.queue(STEPS_QUEUE);
    if ((await steps.getJobState(jobId)) !== 'unknown') await steps.remove(jobId);
    return false;
  }

  private async applyDeadlines(): Promise<number> {
    const ids = await this.attempts.sagasPastDeadline(BATCH);
    let applied = 0;
    for (const id of ids) {
      if ((await this.transitions.apply(id, { type: 'deadline' })).outcome === 'applied') applied++;
    }
    if (applied) {
      this.metrics.reconcilerDeadlines.inc({ kind: 'saga' }, applied);
      this.logger.log(`applied the deadline of ${applied} saga(s)`);
    }
    return applied;
  }

  private async redispatchMissing(): Promise<number> {
    // Work younger than two intervals is left to the fast path and the outbox relay.
    const staleMs = 2 * this.config.reconcileIntervalMs;
    let redispatched = 0;
    for (const unplaced of await this.attempts.claimUnplaced(staleMs, BATCH)) {
      const { id, run, step, phase, attempt } = unplaced;
      const job = stepJob(id, run, { type: 'dispatch', step, phase, attempt, notBefore: null });
      const definition = await this.definitions.get(unplaced.definitionName, unplaced.definitionVersion);
      const spec = definition.steps[step];
      const action = phase === 'action' ? spec.action : spec.compensation;
      if (action?.type === 'queue' ? await this.queueStepInPlace(action.queue, job) : await this.httpStepInPlace(job.jobId, unplaced.carrier)) continue;
      await this.publisher.publish([job]);
      redispatched++;
    }
    if (redispatched) {
      this.metrics.reconcilerRedispatched.inc(redispatched);
      this.logger.warn(`re-dispatched ${redispatched} step job(s) missing from Redis`);
    }
    return redispatched;
  }
}
