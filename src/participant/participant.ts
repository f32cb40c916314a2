import { createHash, randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RESULTS_QUEUE, resultJobId, SagaTask, SagaTaskResult } from './protocol.js';

/** Thrown by a handler: the step fails for good instead of being retried. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

/** What a handler may do besides returning or throwing. */
export interface SagaTaskContext {
  /**
   * Acknowledges the task now and finishes it later (SPEC §10): returns a
   * callback token; the attempt ends when `completeSagaTask` (or any client
   * posting to /v1/callbacks/{token}) reports its outcome, or at the step's
   * timeout. The handler's return value is then ignored. The token is the
   * credential: keep it as a secret.
   */
  completeLater(): string;
}

export type SagaTaskHandler = (task: SagaTask, context: SagaTaskContext) => unknown | Promise<unknown>;

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
        let token: string | null = null;
        const context: SagaTaskContext = {
          completeLater: () => (token ??= randomBytes(32).toString('base64url')),
        };
        try {
          const output = await handler(task, context);
          outcome = token !== null
            ? { ok: 'later', callbackTokenHash: createHash('sha256').update(token).digest('hex') }
            : { ok: true, output: output === undefined ? null : output };
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

/** The outcome a participant reports for a task it finishes later: as a callback of SPEC §10. */
export type SagaTaskCompletion = { status: 'succeeded'; output?: unknown } | { status: 'failed'; error?: unknown; retryable?: boolean };

export interface CompleteOptions {
  /** Give up after this long. @defaultValue 30000 */
  timeoutMs?: number;
  /** The fetch to use (tests, proxies). @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Reports the outcome of a task acknowledged with `completeLater`, from any
 * process: POST {serverUrl}/v1/callbacks/{token}. Retries while the answer
 * may still change (the acknowledgement not processed yet: 404; 429; 5xx;
 * the network), until `timeoutMs`. Resolves with the HTTP status (202, or
 * 200 for a repeat); rejects on 409 (the attempt is no longer outstanding,
 * or got another answer) and on a final failure.
 */
export async function completeSagaTask(serverUrl: string, token: string, completion: SagaTaskCompletion, options: CompleteOptions = {}): Promise<number> {
  const send = options.fetch ?? fetch;
  const until = Date.now() + (options.timeoutMs ?? 30_000);
  let delayMs = 100;
  for (;;) {
    let status = 0;
    let detail = '';
    try {
      const response = await send(`${serverUrl.replace(/\/$/, '')}/v1/callbacks/${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(completion),
      });
      status = response.status;
      detail = await response.text();
    } catch (error) {
      detail = (error as Error).message;
    }
    if (status === 200 || status === 202) return status;
    const worthRetrying = status === 0 || status === 404 || status === 429 || status >= 500;
    if (!worthRetrying || Date.now() + delayMs > until) throw new Error(`The callback was not taken (${status || 'no answer'}): ${detail.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 2_000);
  }
}
