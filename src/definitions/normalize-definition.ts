import { canonicalJson, sha256Hex } from '../common/canonical-json.js';
import {
  Action,
  DEFAULT_HTTP_METHOD,
  DEFAULT_ON_STEP_FAILURE,
  DEFAULT_RETRY,
  DEFAULT_STEP_TIMEOUT_MS,
  DefinitionSpec,
  RetryPolicy,
} from './definition.model.js';
import type { ActionDto, HttpActionDto, QueueActionDto } from './dto/action.dto.js';
import type { CreateDefinitionDto } from './dto/create-definition.dto.js';
import type { RetryPolicyDto } from './dto/retry-policy.dto.js';

/** Applies every default explicitly; the result is what is stored and shown. */
export function normalizeDefinition(dto: CreateDefinitionDto): DefinitionSpec {
  return {
    description: dto.description ?? null,
    timeoutMs: dto.timeoutMs ?? null,
    onStepFailure: dto.onStepFailure ?? DEFAULT_ON_STEP_FAILURE,
    steps: dto.steps.map((step) => ({
      name: step.name,
      action: normalizeAction(step.action),
      compensation: step.compensation ? normalizeAction(step.compensation) : null,
      retry: normalizeRetry(step.retry),
      timeoutMs: step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    })),
  };
}

function normalizeAction(dto: ActionDto): Action {
  if (dto.type === 'queue') {
    const q = dto as QueueActionDto;
    return { type: 'queue', queue: q.queue, task: q.task };
  }
  const h = dto as HttpActionDto;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(h.headers ?? {})) headers[name.toLowerCase()] = value;
  return { type: 'http', method: h.method ?? DEFAULT_HTTP_METHOD, url: h.url, headers };
}

function normalizeRetry(dto: RetryPolicyDto | undefined): RetryPolicy {
  const initialDelayMs = dto?.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs;
  return {
    maxAttempts: dto?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
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
