import type { RetryPolicy } from '../../../src/definitions/definition.model.js';
import { retryDelayMs } from '../../../src/engine/backoff.js';

const policy = (p: Partial<RetryPolicy>): RetryPolicy => ({ maxAttempts: 10, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10_000, ...p });
const mid = () => 0.5;

describe(retryDelayMs.name, () => {
  it.each([
    ['exponential', [100, 200, 400, 800]],
    ['linear', [100, 200, 300, 400]],
    ['fixed', [100, 100, 100, 100]],
  ] as const)('should grow %s without jitter at the midpoint', (backoff, expected) => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(policy({ backoff }), a, mid))).toEqual(expected);
  });

  it('should jitter by ±20 %', () => {
    expect(retryDelayMs(policy({}), 1, () => 0)).toBe(80);
    expect(retryDelayMs(policy({}), 1, () => 0.999999)).toBe(120);
  });

  it('should never exceed maxDelayMs, jitter included', () => {
    for (const r of [0, 0.5, 0.99]) expect(retryDelayMs(policy({ maxDelayMs: 1000 }), 30, () => r)).toBeLessThanOrEqual(1000);
    expect(retryDelayMs(policy({ maxDelayMs: 1000 }), 80, mid)).toBe(1000);
  });

  it('should be 0 with a zero initial delay', () => {
    expect(retryDelayMs(policy({ initialDelayMs: 0 }), 3, mid)).toBe(0);
  });
});
