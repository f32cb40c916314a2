import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** How often an instance adds the requests it counted to the shared counters in Redis, and reads them back. */
export const BUDGET_SYNC_MS = 100;
/** A counter last synced longer ago than this is read from Redis again before it decides. */
const STALE_MS = 2 * BUDGET_SYNC_MS;
/** Counters an instance keeps at once; a tracker beyond them is counted in Redis on every request. */
const MAX_LOCAL = 10_000;

/**
 * Adds `ARGV[1]` to a fixed-window counter and answers its value and time
 * left; the first increment of a window starts it (`ARGV[2]` ms).
 */
export const ADD_LUA = `
  local current = redis.call('INCRBY', KEYS[1], ARGV[1])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return {current, ttl}`;

type Answer = { current: number; ttl: number };
type Callback = (error: Error | null, answer?: Answer) => void;

interface Counter {
  /** The shared count when this instance last synced. */
  base: number;
  /** Requests counted here since then. */
  pending: number;
  expiresAt: number;
  windowMs: number;
  syncedAt: number;
}

/** The Redis client or pipeline with ADD_LUA defined on it. */
interface BudgetRedis {
  rateLimitAdd(key: string, by: number, windowMs: number): Promise<[number, number]>;
}
const withAdd = (client: unknown) => client as BudgetRedis;

/**
 * The counters of one process, synced with Redis every BUDGET_SYNC_MS: the
 * first request of a tracker in a window is counted in Redis (one round
 * trip, which also tells how much of the window is left); the next ones are
 * counted here and added to Redis in one pipeline per sync, which reads back
 * what the other instances added. A counter not synced for STALE_MS (its
 * tracker was idle here) is read from Redis again on its next request. So
 * every instance shares one budget per tracker, and decides on a shared
 * count at most 200 ms old: an instance may admit what it receives in that
 * time beyond the limit, never more.
 */
export class SharedBudget {
  private readonly counters = new Map<string, Counter>();
  private readonly timer: NodeJS.Timeout;
  private syncing = false;

  constructor(private readonly redis: Redis) {
    if (!(redis as unknown as Partial<BudgetRedis>).rateLimitAdd) redis.defineCommand('rateLimitAdd', { numberOfKeys: 1, lua: ADD_LUA });
    this.timer = setInterval(() => void this.sync(), BUDGET_SYNC_MS);
    this.timer.unref();
  }

  /** Counts one request against `key`; answers the count so far in the window and the ms left in it. */
  incr(key: string, windowMs: number, callback: Callback): void {
    const now = Date.now();
    const counter = this.counters.get(key);
    if (counter && counter.expiresAt <= now) this.counters.delete(key);
    else if (counter && now - counter.syncedAt <= STALE_MS) {
      counter.pending++;
      callback(null, { current: counter.base + counter.pending, ttl: counter.expiresAt - now });
      return;
    }
    // A new window, or a counter not synced lately (its key was idle here): count this one in Redis, which answers the shared count.
    withAdd(this.redis).rateLimitAdd(key, 1, windowMs).then(
      ([current, ttl]) => {
        const at = Date.now();
        const known = this.counters.get(key);
        if (known) Object.assign(known, { base: current, expiresAt: at + ttl, syncedAt: at });
        else if (this.counters.size < MAX_LOCAL) this.counters.set(key, { base: current, pending: 0, expiresAt: at + ttl, windowMs, syncedAt: at });
        // Requests counted here and not yet added (a sync is on its way) count too.
        callback(null, { current: current + (known?.pending ?? 0), ttl });
      },
      (error: Error) => callback(error),
    );
  }

  /** Adds what was counted here to Redis and takes up the shared counts; ended windows are forgotten. */
  async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      const now = Date.now();
      const due: Array<[string, Counter, number]> = [];
      for (const [key, counter] of this.counters) {
        if (counter.expiresAt <= now) this.counters.delete(key);
        else if (counter.pending > 0) due.push([key, counter, counter.pending]);
      }
      if (due.length === 0) return;
      const pipeline = this.redis.pipeline();
      for (const [key, counter, by] of due) withAdd(pipeline).rateLimitAdd(key, by, counter.windowMs);
      const answers = (await pipeline.exec()) ?? [];
      const at = Date.now();
      due.forEach(([, counter, by], i) => {
        const [error, answer] = answers[i] ?? [new Error('no answer'), null];
        // Not added (Redis away): these requests stay counted here and are added at the next sync.
        if (error || !answer) return;
        const [current, ttl] = answer as [number, number];
        counter.pending -= by;
        counter.base = current;
        counter.expiresAt = at + ttl;
        counter.syncedAt = at;
      });
    } catch {
      // Redis away: the counts stay here until it answers again.
    } finally {
      this.syncing = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * A store for @fastify/rate-limit (its `store` option) counting in `budget`
 * under `prefix`: fixed windows, as its own Redis store counts them.
 */
export function sharedBudgetStore(budget: SharedBudget, prefix: string) {
  return class SharedBudgetStore implements FastifyRateLimitStore {
    /** The plugin constructs it with its own options, which this store does not need. */
    constructor(_options?: unknown, private readonly keyPrefix: string = prefix) {}

    incr(key: string, callback: Callback, timeWindow: number): void {
      budget.incr(this.keyPrefix + key, timeWindow, callback);
    }

    /** A route with limits of its own counts apart (the plugin passes the route as `routeInfo`, as to its Redis store). */
    child(options: object): SharedBudgetStore {
      const route = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      return new SharedBudgetStore(undefined, `${this.keyPrefix}${String(route.method)}${String(route.url)}-`);
    }
  };
}
