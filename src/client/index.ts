/**
 * A typed client of the saga orchestrator's API: the types are generated
 * from the served OpenAPI document (api-types.ts, openapi-typescript) and
 * the calls are openapi-fetch's. What it adds is only what the API implies:
 *
 * - problem answers thrown as a SagaApiError with their `code`;
 * - `startSaga` retried after a network error or a 503 with the same
 *   Idempotency-Key (one is made when none is given), so a retried trigger
 *   never starts a saga twice;
 * - `waitForSaga`: `waitMs` long polls until the saga settles;
 * - `pages`: a list followed through its `nextCursor`, as an async iterator.
 *
 * ```ts
 * import { createSagaClient } from 'saga-orchestrator/client';
 *
 * const sagas = createSagaClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.SAGA_KEY });
 * const { data: saga } = await sagas.startSaga({ definition: 'order-fulfilment', input: { orderId: 42 } });
 * const settled = await sagas.waitForSaga(saga.id);
 * ```
 */
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types.js';

export type { components, paths };
export type Schemas = components['schemas'];
export type Saga = Schemas['SagaSchema'];
export type SagaStatus = Saga['status'];
export type Problem = Schemas['ProblemSchema'];

/** The statuses after which a saga does not move without a person (SPEC §2, §4). */
export const SETTLED_STATUSES: readonly SagaStatus[] = ['COMPLETED', 'COMPENSATED', 'PAUSED', 'FAILED'];

/** A problem answer (RFC 9457) of the API: `code` is the stable code to branch on. */
export class SagaApiError extends Error {
  override name = 'SagaApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    readonly problem: Partial<Problem> & Record<string, unknown>,
  ) {
    super(`${status} ${code}: ${typeof problem.detail === 'string' ? problem.detail : 'no detail'}`);
  }
}

export interface SagaClientOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`. */
  apiKey?: string;
  /** Attempts of a trigger after a network error or a 503 (same Idempotency-Key). @defaultValue 5 */
  triggerAttempts?: number;
  /** The fetch to use. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The data of a 2xx answer, or the problem thrown as a SagaApiError. */
export function unwrap<T>(answer: Answer<T>): T {
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  const problem = (answer.error && typeof answer.error === 'object' ? answer.error : {}) as Record<string, unknown>;
  throw new SagaApiError(answer.response.status, typeof problem.code === 'string' ? problem.code : 'HTTP_ERROR', problem);
}

export type StartSagaBody = paths['/v1/sagas']['post']['requestBody']['content']['application/json'];
export type ListSagasQuery = NonNullable<paths['/v1/sagas']['get']['parameters']['query']>;

export interface SagaClient {
  /** Every operation of the document, typed (openapi-fetch). */
  readonly api: Client<paths>;
  /** Starts a saga; retried with one Idempotency-Key. `created` is false when the key named a saga started before. */
  startSaga(body: StartSagaBody, options?: { idempotencyKey?: string; waitMs?: number }): Promise<{ data: Saga; idempotencyKey: string }>;
  /** The saga once it is settled (terminal, PAUSED or FAILED), long polling with `waitMs`; throws after `timeoutMs`. */
  waitForSaga(id: string, options?: { timeoutMs?: number }): Promise<Saga>;
  /** Every item of a list, following `nextCursor`. */
  pages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | null }>): AsyncIterable<T>;
}

export function createSagaClient(options: SagaClientOptions): SagaClient {
  const api = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const attempts = options.triggerAttempts ?? 5;

  return {
    api,
    async startSaga(body, { idempotencyKey = randomUUID(), waitMs } = {}) {
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await api.POST('/v1/sagas', { body, params: { header: { 'Idempotency-Key': idempotencyKey }, query: waitMs === undefined ? {} : { waitMs } } });
          if (answer.response.status !== 503 || attempt >= attempts) return { data: unwrap(answer), idempotencyKey };
        } catch (error) {
          if (error instanceof SagaApiError || attempt >= attempts) throw error;
          // A network error: the saga may or may not have been stored; the same key makes the next try safe.
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
      }
    },
    async waitForSaga(id, { timeoutMs = 60_000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const left = until - Date.now();
        const saga = unwrap(await api.GET('/v1/sagas/{id}', { params: { path: { id }, query: { waitMs: Math.max(0, Math.min(left, 60_000)) } } }));
        if (SETTLED_STATUSES.includes(saga.status)) return saga;
        if (Date.now() >= until) throw new Error(`Saga ${id} is still ${saga.status} after ${timeoutMs} ms.`);
      }
    },
    pages(page) {
      return {
        async *[Symbol.asyncIterator]() {
          let cursor: string | undefined;
          do {
            const { items, nextCursor } = await page(cursor);
            yield* items;
            cursor = nextCursor ?? undefined;
          } while (cursor !== undefined);
        },
      };
    },
  };
}
