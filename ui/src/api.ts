/** The server's REST API (SPEC §1–5) as the dashboard uses it, with the calling key. */
import type { TimelineEvent } from './timeline';

import { REPLAYABLE_STATUSES, SAGA_STATUS_TRAITS, type SagaStatus } from '../../src/engine/statuses.js';

export type { SagaStatus };

/** Every status, in the order the dashboard shows them: moving, waiting for a person, done. */
export const SAGA_STATUSES: readonly SagaStatus[] = ['RUNNING', 'COMPENSATING', 'PAUSED', 'FAILED', 'COMPLETED', 'COMPENSATED'];

/** The saga still moves on its own (the server's status table): views refresh while one is shown. */
export const isActive = (status: SagaStatus): boolean => SAGA_STATUS_TRAITS[status].active;

/** The saga never changes again (no step is current any more). */
export const isTerminal = (status: SagaStatus): boolean => SAGA_STATUS_TRAITS[status].terminal;

export interface SagaError {
  code: string;
  message: string;
  step?: string;
  [key: string]: unknown;
}

export interface SagaSummary {
  id: string;
  definition: string;
  version: number;
  run: number;
  status: SagaStatus;
  correlationId: string | null;
  currentStep: string | null;
  phase: 'action' | 'compensation' | null;
  error: SagaError | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface StepView {
  name: string;
  kind: 'compensatable' | 'pivot' | 'retriable';
  group: string | null;
  branch: number | null;
  status: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: unknown;
  compensation: { status: string; attempts: number; startedAt: string | null; finishedAt: string | null; error: unknown } | null;
  waitingOnCircuit: { host: string; until: string } | null;
  /** SPEC §10: what the outstanding attempt waits for, if it waits for the outside world. */
  waitingFor: { type: 'signal'; signal: string } | { type: 'callback' } | null;
}

export interface Saga extends Omit<SagaSummary, 'currentStep' | 'phase'> {
  input: unknown;
  results: Record<string, unknown>;
  steps: StepView[];
}

/** A history event (`GET /v1/sagas/{id}/events`); the timeline reads these. */
export type SagaEvent = TimelineEvent;

export interface Stats {
  total: number;
  byStatus: Record<SagaStatus, number>;
  byDefinition: Array<{ definition: string; total: number; byStatus: Record<SagaStatus, number> }>;
  at: string;
}

export type Action =
  | { type: 'http'; method: string; url: string; headers?: Record<string, string>; completion?: 'callback'; body?: unknown }
  | { type: 'signal'; signal: string }
  | { type: 'queue'; queue: string; task: string };

export interface StepSpec {
  name: string;
  action: Action;
  compensation?: Action | null;
  retry: { maxAttempts: number; backoff: string; initialDelayMs: number; maxDelayMs: number };
  timeoutMs: number;
}

export interface Definition {
  name: string;
  version: number;
  description?: string | null;
  timeoutMs?: number | null;
  onStepFailure: 'compensate' | 'pause';
  steps: StepSpec[];
  enabled: boolean;
  createdAt: string;
}

export interface Principal {
  id: string;
  name: string;
  scopes: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An RFC 9457 problem the server answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

export type Api = ReturnType<typeof createApi>;

/** Requests with `key` (none when the server runs without authentication). */
export function createApi(key: string | null, onUnauthenticated: () => void = () => undefined) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    if (!response.ok) {
      if (response.status === 401) onUnauthenticated();
      const detail = typeof json?.detail === 'string' ? json.detail : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, typeof json?.code === 'string' ? json.code : 'HTTP_ERROR', detail);
    }
    return json as T;
  }
  const query = (params: Record<string, string | number | undefined | null>) => {
    const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
    return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
  };
  const enc = encodeURIComponent;
  return {
    currentKey: () => call<Principal>('GET', '/v1/keys/current'),
    stats: () => call<Stats>('GET', '/v1/stats'),
    sagas: (filter: { status?: string; definition?: string; correlationId?: string; cursor?: string | null; limit?: number }) =>
      call<Page<SagaSummary>>('GET', `/v1/sagas${query(filter)}`),
    saga: (id: string) => call<Saga>('GET', `/v1/sagas/${enc(id)}`),
    events: (id: string, after: number) => call<Page<SagaEvent>>('GET', `/v1/sagas/${enc(id)}/events${query({ after, limit: 1000 })}`),
    replay: (id: string, body: { reason?: string; input?: unknown }) => call<Saga>('POST', `/v1/sagas/${enc(id)}/replay`, body),
    cancel: (id: string, body: { reason?: string }) => call<Saga>('POST', `/v1/sagas/${enc(id)}/cancel`, body),
    signal: (id: string, signal: string, body: { status: 'succeeded'; output?: unknown } | { status: 'failed'; error?: unknown }) =>
      call<{ sagaId: string; signal: string; step: string }>('POST', `/v1/sagas/${enc(id)}/signals/${enc(signal)}`, body),
    definitions: (cursor: string | null) => call<Page<Definition>>('GET', `/v1/definitions${query({ cursor, limit: 100 })}`),
    versions: (name: string) => call<{ items: Definition[] }>('GET', `/v1/definitions/${enc(name)}/versions`),
  };
}

/** The dashboard's settings the server publishes (GET /ui/config.json). */
export async function dashboardConfig(): Promise<{ authRequired: boolean }> {
  const response = await fetch('/ui/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`The server answered ${response.status} for /ui/config.json.`);
  return (await response.json()) as { authRequired: boolean };
}

/** Replay as SPEC §5 allows it, and cancel as its route does (RUNNING and PAUSED). */
export const REPLAYABLE: readonly SagaStatus[] = REPLAYABLE_STATUSES;
export const CANCELLABLE: readonly SagaStatus[] = ['RUNNING', 'PAUSED'];
