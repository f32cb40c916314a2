import rateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import type { FastifyRequest } from 'fastify';
import { ApiKeysService } from '../auth/api-keys.service.js';
import { presentedKey } from '../auth/auth.guard.js';
import { AppError, ErrorCode } from '../common/app-error.js';
import { sha256Hex } from '../common/canonical-json.js';
import type { AppConfig } from '../config/app-config.js';
import { SharedBudget, sharedBudgetStore } from './shared-budget-store.js';

/** Not counted: health checks and the API documentation. */
const UNLIMITED = /^\/(health|docs)(\/|$|\?)/;

/**
 * Whom a request is counted against: the API key it presents (as a hash)
 * once that key has been verified, else its address. Made-up keys thus share
 * their sender's budget instead of each opening a counter in Redis.
 */
function trackerFor(keys: ApiKeysService) {
  return (request: FastifyRequest): string => {
    const key = presentedKey(request);
    return key && keys.recentlyVerified(key) ? `key:${sha256Hex(key).slice(0, 32)}` : `ip:${request.ip}`;
  };
}

/**
 * Per-key rate limit (`RATE_LIMIT_PER_MINUTE`) with @fastify/rate-limit,
 * shared through Redis so every instance shares one budget per key: a key's
 * first request in a window is counted in Redis, the rest in the process and
 * added to Redis every 100 ms (SharedBudget), so a request costs no round
 * trip and each instance may admit up to 100 ms of requests over. It runs
 * before authentication, so floods of bad keys are limited too. When Redis
 * does not answer, requests are let through rather than refused (the API
 * must stay usable; Postgres is the store that matters).
 * Returns a function that closes its Redis connection.
 */
export async function setUpRateLimit(app: NestFastifyApplication, config: AppConfig): Promise<() => Promise<void>> {
  const redis = new Redis(config.redisUrl, {
    // Fail fast instead of queueing while Redis is away: the limit is skipped, the request goes on.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  // Counted from the first request when Redis is up; if it is not (bounded by connectTimeout), limits start once it is.
  await redis.connect().catch(() => undefined);
  const budget = new SharedBudget(redis);
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    store: sharedBudgetStore(budget, `${config.redisPrefix}:rate-limit:`),
    skipOnError: true,
    keyGenerator: trackerFor(app.get(ApiKeysService)),
    allowList: (request) => UNLIMITED.test(request.url),
    errorResponseBuilder: (_request, context) =>
      new AppError(ErrorCode.RATE_LIMITED, `Over the limit of ${context.max} requests per minute for this API key; retry in ${Math.ceil(context.ttl / 1000)} s.`, {
        retryAfterSeconds: Math.ceil(context.ttl / 1000),
      }),
  });
  return async () => {
    budget.close();
    await budget.sync();
    redis.disconnect();
  };
}
