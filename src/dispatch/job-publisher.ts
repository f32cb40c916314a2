import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { Batcher } from '../common/batcher.js';
import { withDeadline } from '../common/with-deadline.js';
import type { StepJob } from './step-job.js';

/** How long closing may wait on Redis at shutdown. */
export const CLOSE_DEADLINE_MS = 5_000;

/**
 * Failed jobs are kept for a week, for inspection. Completed step jobs are
 * removed at once (fewer Redis writes per step): a late re-publish of the
 * same id then runs again, and the runner drops it, since a completed job's
 * attempt is no longer the saga's outstanding one.
 */
const KEEP_FAILED_S = 7 * 24 * 3600;

/** Adds jobs to BullMQ. Retries are decided by the engine, so every job runs once (`attempts: 1`). */
@Injectable()
export class JobPublisher implements OnApplicationShutdown {
  readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  /** Jobs of concurrent publishes go to Redis together. */
  private readonly batches = new Batcher<StepJob[], void>(
    async (lists) => {
      await this.add(lists.flat());
      return lists.map(() => undefined);
    },
    { maxBatch: 100, maxInFlight: 2 },
  );

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {
    // BullMQ needs maxRetriesPerRequest: null on the connections it blocks on.
    this.connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'saga-orchestrator:publish' });
    this.connection.on('error', () => undefined);
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.config.redisPrefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds `jobs`; concurrent calls share one Redis round trip (see Batcher). */
  async publish(jobs: StepJob[]): Promise<void> {
    if (jobs.length > 0) await this.batches.submit(jobs);
  }

  private async add(jobs: StepJob[], now = Date.now()): Promise<void> {
    const byQueue = new Map<string, StepJob[]>();
    for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
    const entry = (job: StepJob) => ({
      name: job.data.phase,
      data: job.data,
      opts: {
        jobId: job.jobId,
        delay: job.notBefore ? Math.max(0, Date.parse(job.notBefore) - now) : undefined,
        attempts: 1,
        removeOnComplete: true,
        removeOnFail: { age: KEEP_FAILED_S },
      },
    });
    await Promise.all(
      [...byQueue.entries()].map(async ([name, list]) => {
        const queue = this.queue(name);
        // One job: a single script call; several: one pipeline.
        if (list.length === 1) {
          const { name: jobName, data, opts } = entry(list[0]);
          await queue.add(jobName, data, opts);
        } else {
          await queue.addBulk(list.map(entry));
        }
      }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    // Closing waits on Redis; when Redis is down, give up after a while rather than hang.
    await withDeadline(Promise.all([...this.queues.values()].map((q) => q.close())), CLOSE_DEADLINE_MS);
    this.connection.disconnect();
  }
}
