import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { AppConfig } from '../config/app-config.js';
import { SettledSagas } from './settled-sagas.js';

/** The channel the batched transition statement notifies, with the saga id, when a saga settles. */
export const SETTLED_CHANNEL = 'saga_settled';
/** While the listener is not connected, waiters re-read at this pace instead (notifications may be missed). */
const UNLISTENED_RECHECK_MS = 1_000;
const RECONNECT_DELAYS_MS = [100, 500, 1_000, 2_000, 5_000];

/** One caller's interest in one saga; `next` resolves true when the saga may have changed, false on timeout. */
export interface SettledSubscription {
  next(timeoutMs: number): Promise<boolean>;
  close(): void;
}

interface Waiter {
  woken: boolean;
  wake: (() => void) | null;
}

/**
 * Wakes requests that wait for a saga to settle (SPEC §4 `waitMs`), on any
 * instance: the statement that moves a saga to COMPLETED, COMPENSATED, PAUSED
 * or FAILED also runs `pg_notify`, which Postgres delivers on commit to every
 * listening connection. One connection per process listens; waiting
 * requests cost no queries while they wait.
 */
@Injectable()
export class SagaNotifications implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SagaNotifications.name);
  private readonly waiters = new Map<string, Set<Waiter>>();
  private client: pg.Client | null = null;
  private listening = false;
  private stopped = false;
  private failures = 0;
  private readonly lostClients = new WeakSet<pg.Client>();

  constructor(
    private readonly config: AppConfig,
    settled: SettledSagas,
  ) {
    // A saga this process settled wakes its waiters here at once; Postgres's notification follows for the others.
    settled.onSettled((sagaId) => this.notify(sagaId));
  }

  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.listening = false;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
    this.wakeAll();
  }

  /**
   * Registers interest in a saga. Subscribe before reading the saga, so a
   * change committed between the read and the wait is not missed.
   */
  subscribe(sagaId: string): SettledSubscription {
    const waiter: Waiter = { woken: false, wake: null };
    let set = this.waiters.get(sagaId);
    if (!set) this.waiters.set(sagaId, (set = new Set()));
    set.add(waiter);
    return {
      next: (timeoutMs) => {
        if (waiter.woken) {
          waiter.woken = false;
          return Promise.resolve(true);
        }
        const wait = this.listening ? timeoutMs : Math.min(timeoutMs, UNLISTENED_RECHECK_MS);
        return new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            waiter.wake = null;
            resolve(wait < timeoutMs);
          }, wait);
          waiter.wake = () => {
            clearTimeout(timer);
            waiter.wake = null;
            resolve(true);
          };
        });
      },
      close: () => {
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(sagaId) === set) this.waiters.delete(sagaId);
        waiter.wake?.();
      },
    };
  }

  private notify(sagaId: string): void {
    for (const waiter of this.waiters.get(sagaId) ?? []) wake(waiter);
  }

  /** After a reconnect, notifications sent meanwhile are lost: every waiter re-reads. */
  private wakeAll(): void {
    for (const set of this.waiters.values()) for (const waiter of set) wake(waiter);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.databaseUrl, application_name: 'saga-orchestrator-listener' });
    client.on('notification', (msg) => {
      if (msg.channel === SETTLED_CHANNEL && msg.payload) this.notify(msg.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${SETTLED_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.listening = true;
    if (this.failures > 0) this.logger.log('listening for saga notifications again');
    this.failures = 0;
    this.wakeAll();
  }

  /** A client's 'error' and 'end' both land here; the first one reconnects. */
  private lost(client: pg.Client, error: Error | null): void {
    if (this.stopped || this.lostClients.has(client)) return;
    this.lostClients.add(client);
    if (this.client === client) this.client = null;
    this.listening = false;
    client.end().catch(() => undefined);
    const delay = RECONNECT_DELAYS_MS[Math.min(this.failures, RECONNECT_DELAYS_MS.length - 1)];
    this.failures++;
    this.logger.warn(`saga notification listener lost (${error?.message ?? 'connection ended'}); reconnecting in ${delay} ms`);
    this.wakeAll();
    setTimeout(() => void this.connect(), delay).unref();
  }
}

function wake(waiter: Waiter): void {
  if (waiter.wake) waiter.wake();
  else waiter.woken = true;
}
