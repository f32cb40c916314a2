import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { ADD_LUA } from '../http/shared-budget-store.js';
import { RedisConnection } from '../redis/redis.module.js';

/** Posts of one callback token per minute: a participant retrying its callback needs a few; more is someone guessing or looping. */
export const CALLBACK_RATE_PER_TOKEN = 30;
const WINDOW_MS = 60_000;

/**
 * The callback endpoint's own limits (SPEC §10): it takes no API key, so it
 * is limited per token and per client address, in Redis (one budget for
 * every instance). The token is counted by its hash, never as itself. When
 * Redis does not answer, callbacks go through: applying them is what matters.
 */
@Injectable()
export class CallbackLimits {
  constructor(
    private readonly redis: RedisConnection,
    private readonly config: AppConfig,
  ) {}

  /** The RATE_LIMITED error to answer with (its `retryAfterSeconds` for the Retry-After header), or null to go on. */
  async check(tokenHashHex: string, address: string): Promise<(AppError & { retryAfterSeconds: number }) | null> {
    const prefix = `${this.config.redisPrefix}:callback-limit`;
    let counts: Array<[number, number]>;
    try {
      counts = (await Promise.all([
        // The rate limit's fixed-window counter, one count at a time.
        this.redis.client.eval(ADD_LUA, 1, `${prefix}:token:${tokenHashHex.slice(0, 32)}`, 1, WINDOW_MS),
        this.redis.client.eval(ADD_LUA, 1, `${prefix}:ip:${address}`, 1, WINDOW_MS),
      ])) as Array<[number, number]>;
    } catch {
      return null;
    }
    const [[perToken, tokenTtl], [perAddress, addressTtl]] = counts;
    if (perToken > CALLBACK_RATE_PER_TOKEN) return limited(`Over ${CALLBACK_RATE_PER_TOKEN} callbacks per minute with this token`, tokenTtl);
    if (perAddress > this.config.callbackRateLimitPerMinute) return limited(`Over ${this.config.callbackRateLimitPerMinute} callbacks per minute from this address`, addressTtl);
    return null;
  }
}

function limited(what: string, ttlMs: number): AppError & { retryAfterSeconds: number } {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return Object.assign(new AppError(ErrorCode.RATE_LIMITED, `${what}; retry in ${seconds} s.`, { retryAfterSeconds: seconds }), { retryAfterSeconds: seconds });
}
