import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../metrics/metrics.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, 'half-open': 2 };

export type Admission =
  | { ok: true; host: string; /** Call once with the outcome: true when it says the host is unwell, null when it says nothing. */ release(failed: boolean | null): void }
  | { ok: false; host: string; reason: 'circuit-open' | 'host-busy'; retryAt: number };

/** How long a call may wait in this process for a free slot of its host before its job is put back to wait in BullMQ. */
const SLOT_WAIT_MS = 250;

interface HostEntry {
  breaker: CircuitBreaker;
  inFlight: number;
  /** Calls waiting here for a slot, oldest first; a freed slot goes to the first. */
  waiters: Array<(slot: boolean) => void>;
}

/**
 * Per participant host (origin), in this worker process: a circuit breaker
 * and a cap on calls in flight. A call over the cap first waits here, briefly
 * and only a few at a time (half the cap), so a busy but healthy host costs
 * no round trip to Redis; beyond that, and always while the circuit is open,
 * the call is not made and costs no attempt: the step job waits (BullMQ
 * delay) and comes back. So a slow host holds at most 1.5 × the cap of this
 * worker's slots.
 */
@Injectable()
export class ParticipantHosts {
  private readonly hosts = new Map<string, HostEntry>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async admit(url: string): Promise<Admission> {
    const host = new URL(url).host;
    let entry = this.hosts.get(host);
    if (!entry) {
      entry = {
        breaker: new CircuitBreaker({
          failureRate: this.config.circuitFailureRate,
          minCalls: this.config.circuitMinCalls,
          windowMs: this.config.circuitWindowMs,
          openMs: this.config.circuitOpenMs,
        }),
        inFlight: 0,
        waiters: [],
      };
      this.hosts.set(host, entry);
    }
    const current = entry;
    if (current.inFlight < this.config.participantHostConcurrency) current.inFlight++;
    else if (!(await this.waitForSlot(current))) {
      this.metrics.stepDeferrals.inc({ host, reason: 'host-busy' });
      return { ok: false, host, reason: 'host-busy', retryAt: Date.now() + 50 + Math.floor(Math.random() * 100) };
    }
    // This call holds a slot from here on.
    if (!current.breaker.tryAcquire()) {
      this.freeSlot(current);
      this.metrics.stepDeferrals.inc({ host, reason: 'circuit-open' });
      this.publish(host, current.breaker);
      return { ok: false, host, reason: 'circuit-open', retryAt: current.breaker.retryAt() + Math.floor(Math.random() * 100) };
    }
    this.publish(host, current.breaker);
    let released = false;
    return {
      ok: true,
      host,
      release: (failed) => {
        if (released) return;
        released = true;
        this.freeSlot(current);
        if (failed !== null) current.breaker.record(failed);
        this.publish(host, current.breaker);
      },
    };
  }

  /** Resolves true once a slot is handed over, false when too many wait already or none freed in time. */
  private waitForSlot(entry: HostEntry): Promise<boolean> {
    if (entry.waiters.length >= Math.max(1, Math.floor(this.config.participantHostConcurrency / 2))) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        entry.waiters.splice(entry.waiters.indexOf(waiter), 1);
        resolve(false);
      }, SLOT_WAIT_MS);
      const waiter = (slot: boolean) => {
        clearTimeout(timer);
        resolve(slot);
      };
      entry.waiters.push(waiter);
    });
  }

  /** A freed slot passes straight to the first waiter (so `inFlight` stays), or is given back. */
  private freeSlot(entry: HostEntry): void {
    const next = entry.waiters.shift();
    if (next) next(true);
    else entry.inFlight--;
  }

  private publish(host: string, breaker: CircuitBreaker): void {
    this.metrics.circuitState.set({ host }, STATE_VALUE[breaker.state]);
  }
}
