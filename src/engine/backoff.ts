import type { RetryPolicy } from '../definitions/definition.model.js';

/** ±20 %: spreads retries of many sagas that failed together. */
const JITTER = 0.2;

/**
 * Delay before the attempt after `failedAttempt` (1-based), in ms: the
 * policy's base delay (exponential doubles from `initialDelayMs`, linear adds
 * it, fixed repeats it), jittered by ±20 %, never above `maxDelayMs`.
 * `random` is in [0, 1), injected so the engine stays deterministic in tests.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number): number {
  const base =
    policy.backoff === 'exponential'
      ? policy.initialDelayMs * 2 ** Math.min(failedAttempt - 1, 40)
      : policy.backoff === 'linear'
        ? policy.initialDelayMs * failedAttempt
        : policy.initialDelayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  const jittered = capped * (1 - JITTER + 2 * JITTER * random());
  return Math.round(Math.min(jittered, policy.maxDelayMs));
}
