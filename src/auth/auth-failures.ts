import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { RedisConnection } from '../redis/redis.module.js';

const WINDOW_MS = 60_000;

/**
 * Failed authentications per client address, counted in Redis so every API
 * instance shares the count (AUTH_FAILURES_PER_MINUTE in a fixed window of a
 * minute). A flood of made-up keys costs a Postgres lookup each and cannot
 * be limited per key; past the limit its address gets 429 instead. When
 * Redis does not answer, nothing is limited (as with the rate limit).
 */
@Injectable()
export class AuthFailures {
  constructor(
    private readonly redis: RedisConnection,
    private readonly config: AppConfig,
  ) {}

  private key(address: string): string {
    return `${this.config.redisPrefix}:auth-failures:${address}`;
  }

  /** Seconds until `address` may try again, or 0 when it is under the limit. */
  async retryAfterSeconds(address: string): Promise<number> {
    try {
      const [[, count], [, ttl]] = (await this.redis.client.multi().get(this.key(address)).pttl(this.key(address)).exec()) as [[unknown, string | null], [unknown, number]];
      return Number(count ?? 0) >= this.config.authFailuresPerMinute ? Math.max(1, Math.ceil(ttl / 1000)) : 0;
    } catch {
      return 0;
    }
  }

  /** Counts one failed authentication of `address` (the window starts with its first failure). */
  async record(address: string): Promise<void> {
    try {
      await this.redis.client.multi().set(this.key(address), 0, 'PX', WINDOW_MS, 'NX').incr(this.key(address)).exec();
    } catch {
      // Redis is away: not counted.
    }
  }
}
