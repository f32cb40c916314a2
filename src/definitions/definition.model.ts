/**
 * A saga definition as stored: every default is explicit, so what a GET shows
 * is exactly what executions use.
 */
export const HTTP_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const BACKOFFS = ['exponential', 'linear', 'fixed'] as const;
export type Backoff = (typeof BACKOFFS)[number];

export const ON_STEP_FAILURE = ['compensate', 'pause'] as const;
export type OnStepFailure = (typeof ON_STEP_FAILURE)[number];

/**
 * How an HTTP attempt ends (SPEC §10): with the participant's answer, or
 * (`callback`) with a later POST to /v1/callbacks/{token}, the answer only
 * acknowledging the call. Stored only when it is `callback`.
 */
export const COMPLETIONS = ['callback'] as const;
export type Completion = (typeof COMPLETIONS)[number];

export interface HttpAction {
  type: 'http';
  method: HttpMethod;
  /** May hold data placeholders (SPEC §11). */
  url: string;
  /** Header names are stored lower-cased (HTTP header names are case-insensitive). Values may hold placeholders and secret references. */
  headers: Record<string, string>;
  /** Present only for callback steps. */
  completion?: Completion;
  /** SPEC §11: sent instead of the envelope when present; any JSON, kept as sent, placeholders rendered at dispatch. */
  body?: unknown;
}

export interface QueueAction {
  type: 'queue';
  queue: string;
  task: string;
}

/** SPEC §10: the step waits for POST /v1/sagas/{id}/signals/{signal}; nothing is called. Not a compensation. */
export interface SignalAction {
  type: 'signal';
  signal: string;
}

export type Action = HttpAction | QueueAction | SignalAction;

/** An attempt that waits for the outside world after its dispatch: a signal, or a callback step's callback. */
export function waitsForOutside(action: Action | null | undefined): boolean {
  return action?.type === 'signal' || (action?.type === 'http' && action.completion === 'callback');
}

export interface RetryPolicy {
  maxAttempts: number;
  backoff: Backoff;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * The saga model's kinds of transaction (SPEC §9): a compensatable step can be
 * undone; the pivot is the point of no return; retriable steps follow it and
 * only go forward.
 */
export const STEP_KINDS = ['compensatable', 'pivot', 'retriable'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface StepSpec {
  name: string;
  kind: StepKind;
  action: Action;
  /** null: the step needs no compensation and is skipped when unwinding. */
  compensation: Action | null;
  retry: RetryPolicy;
  /** Per attempt, for the action and the compensation alike. */
  timeoutMs: number;
}

/** SPEC §8: steps that run in branches at once; the steps of one branch run in order. Groups do not nest. */
export interface GroupSpec {
  name: string;
  parallel: StepSpec[][];
}

/** A top-level item of a definition: a step, or a parallel group. */
export type TopLevelSpec = StepSpec | GroupSpec;

export function isGroup(item: TopLevelSpec): item is GroupSpec {
  return Array.isArray((item as Partial<GroupSpec>).parallel);
}

/** A definition as stored and shown: top-level steps and groups, in order. */
export interface DefinitionSpec {
  description: string | null;
  /** Saga deadline; null means none. */
  timeoutMs: number | null;
  onStepFailure: OnStepFailure;
  steps: TopLevelSpec[];
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelayMs: 100,
  maxDelayMs: 10_000,
});
export const DEFAULT_STEP_TIMEOUT_MS = 10_000;
export const DEFAULT_HTTP_METHOD: HttpMethod = 'POST';
export const DEFAULT_ON_STEP_FAILURE: OnStepFailure = 'compensate';

/** Limits of SPEC §1/§6 and our own bounds where the spec is silent. */
export const LIMITS = {
  /** Every step counts, a group's included. */
  maxSteps: 100,
  minBranches: 2,
  maxBranches: 10,
  nameMaxLength: 100,
  descriptionMaxLength: 2_000,
  urlMaxLength: 2_048,
  maxHeaders: 50,
  headerValueMaxLength: 8_192,
  maxAttempts: 100,
  maxDelayMs: 86_400_000,
  stepTimeoutMaxMs: 86_400_000,
  /** SPEC §10: callback and signal steps may wait up to 30 days. */
  waitTimeoutMaxMs: 2_592_000_000,
  /** A callback step's call only acknowledges: it gets at most this long (the attempt's timeout runs on to the callback). */
  acknowledgeTimeoutMs: 10_000,
  /** A mapped body (SPEC §11), as stored in the definition. */
  bodyMaxBytes: 65_536,
  sagaTimeoutMaxMs: 31_536_000_000,
} as const;

/** Versions are stored as a PostgreSQL int. */
export const MAX_VERSION = 2_147_483_647;

export const DEFINITION_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** Step, queue and task names end up in idempotency keys and BullMQ job ids: no ':' allowed. */
export const STEP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Signal names end up in a URL path segment. */
export const SIGNAL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Headers the server sets itself on every participant call; a definition cannot override them. */
export const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'idempotency-key',
  'x-saga-id',
  'traceparent',
  'tracestate',
  'x-callback-token',
  'host',
  'connection',
  'transfer-encoding',
]);
