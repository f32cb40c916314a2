import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RESULTS_QUEUE, resultJobId, SagaTask, SagaTaskResult } from './protocol.js';

/** Thrown by a handler: the step fails for good instead of being retried. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

export type SagaTaskHandler = (task: SagaTask) => unknown | Promise<unknown>;

export interface SagaParticipantOptions {
  /** Redis URL or an ioredis connection (one made with `maxRetriesPerRequest: null`). */
  connection: string | Redis;
  /** The server's REDIS_PREFIX. @defaultValue saga */
  prefix?: string;
  /** The queue named by the steps' `action.queue` / `compensation.queue`. */
  queue: string;
  /** One handler per `task`. */
  handlers: Record<string, SagaTaskHandler>;
  /** Tasks handled at once. @defaultValue 10 */
  concurrency?: number;
}

export interface SagaParticipant {
  close(): Promise<void>;
}

/** Starts handling the tasks of one queue; see the module comment for an example. */
export function startSagaParticipant(options: SagaParticipantOptions): SagaParticipant {
  const ownConnection = typeof options.connection === 'string';
  const connection = typeof options.connection === 'string' ? new Redis(options.connection, { maxRetriesPerRequest: null }) : options.connection;
  const prefix = options.prefix ?? 'saga';
  const results = new Queue<SagaTaskResult>(RESULTS_QUEUE, { connection, prefix });

  const worker = new Worker<SagaTask>(
    options.queue,
    async (job) => {
      const task = job.data;
      let outcome: SagaTaskResult['outcome'];
      const handler = options.handlers[task.task];
      if (!handler) {
        outcome = { ok: false, retryable: false, message: `No handler for task "${task.task}" on queue "${options.queue}".` };
      } else {
        try {
          const output = await handler(task);
          outcome = { ok: true, output: output === undefined ? null : output };
        } catch (error) {
          outcome = { ok: false, retryable: !(error instanceof NonRetryableError), message: (error as Error)?.message ?? String(error) };
        }
      }
      const { sagaId, run, step, phase, attempt } = task;
      // If this add fails the job fails; the server re-dispatches the attempt later.
      await results.add('result', { sagaId, run, step, phase, attempt, outcome }, {
        jobId: resultJobId(job.id!),
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    },
    { connection, prefix, concurrency: options.concurrency ?? 10 },
  );

  return {
    async close() {
      await worker.close();
      await results.close();
      if (ownConnection) connection.disconnect();
    },
  };
}
