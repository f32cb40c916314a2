import { canonicalJson, sha256Hex } from '../common/canonical-json.js';
import {
  Action,
  DEFAULT_HTTP_METHOD,
  DEFAULT_ON_STEP_FAILURE,
  DEFAULT_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  DefinitionSpec,
  RetryPolicy,
  StepKind,
  StepSpec,
  TopLevelSpec,
} from './definition.model.js';
import type { ActionDto, HttpActionDto, QueueActionDto, SignalActionDto } from './dto/action.dto.js';
import type { CreateDefinitionDto } from './dto/create-definition.dto.js';
import type { RetryPolicyDto } from './dto/retry-policy.dto.js';
import type { StepDto } from './dto/step.dto.js';

/** Applies every default explicitly; the result is what is stored and shown. */
export function normalizeDefinition(dto: CreateDefinitionDto): DefinitionSpec {
  return {
    description: dto.description ?? null,
    timeoutMs: dto.timeoutMs ?? null,
    onStepFailure: dto.onStepFailure ?? DEFAULT_ON_STEP_FAILURE,
    steps: dto.steps.map((item): TopLevelSpec => (item.parallel ? { name: item.name, parallel: item.parallel.map((branch) => branch.map(normalizeStep)) } : normalizeStep(item))),
  };
}

function normalizeStep(step: StepDto): StepSpec {
  const kind = step.kind ?? 'compensatable';
  return {
    name: step.name,
    kind,
    action: normalizeAction(step.action!),
    compensation: step.compensation ? normalizeAction(step.compensation) : null,
    retry: normalizeRetry(step.retry, kind),
    timeoutMs: step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
  };
}

function normalizeAction(dto: ActionDto): Action {
  if (dto.type === 'queue') {
    const q = dto as QueueActionDto;
    return { type: 'queue', queue: q.queue, task: q.task };
  }
  if (dto.type === 'signal') return { type: 'signal', signal: (dto as SignalActionDto).signal };
  const h = dto as HttpActionDto;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(h.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    type: 'http',
    method: h.method ?? DEFAULT_HTTP_METHOD,
    url: h.url,
    headers,
    // Only when given: definitions without them keep their stored form (and hash).
    ...(h.completion ? { completion: h.completion } : {}),
    ...(h.body !== undefined ? { body: h.body } : {}),
  };
}

function normalizeRetry(dto: RetryPolicyDto | undefined, kind: StepKind): RetryPolicy {
  const initialDelayMs = dto?.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs;
  return {
    // A retriable step only goes forward: unlimited attempts (0) unless it says otherwise.
    maxAttempts: dto?.maxAttempts ?? (kind === 'retriable' ? 0 : DEFAULT_RETRY.maxAttempts),
    backoff: dto?.backoff ?? DEFAULT_RETRY.backoff,
    initialDelayMs,
    // An omitted cap never undercuts an explicit initial delay.
    maxDelayMs: dto?.maxDelayMs ?? Math.max(DEFAULT_RETRY.maxDelayMs, initialDelayMs),
  };
}

/** Identity of a definition's content: equal hashes mean "identical" (key order ignored). */
export function hashDefinition(spec: DefinitionSpec): string {
  return sha256Hex(canonicalJson(spec));
}
