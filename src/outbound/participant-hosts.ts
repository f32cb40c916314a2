import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../metrics/metrics.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, 'half-open': 2 };

export type Admission =
  | { ok: true; host: string; /** Call once with the outcome: true when it says the host is unwell, null when it says nothing. */ release(failed: boolean | null): void }
  | { ok: false; host: string; reason: 'circuit-open' | 'host-busy'; retryAt: number };

/**
 * Per participant host (origin), in this worker process: a circuit breaker
 * and a cap on calls in flight. A call that is not admitted is not made and
 * costs no attempt: the step job waits (BullMQ delay) and comes back.
 */
@Injectable()
export class ParticipantHosts {
  private readonly hosts = new Map<string, { breaker: CircuitBreaker; inFlight: number }>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  admit(url: string): Admission {
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
      };
      this.hosts.set(host, entry);
    }
    const current = entry;
    if (current.inFlight >= this.config.participantHostConcurrency) {
      this.metrics.stepDeferrals.inc({ host, reason: 'host-busy' });
      return { ok: false, host, reason: 'host-busy', retryAt: Date.now() + 50 + Math.floor(Math.random() * 100) };
    }
    if (!current.breaker.tryAcquire()) {
      this.metrics.stepDeferrals.inc({ host, reason: 'circuit-open' });
      this.publish(host, current.breaker);
      return { ok: false, host, reason: 'circuit-open', retryAt: current.breaker.retryAt() + Math.floor(Math.random() * 100) };
    }
    this.publish(host, current.breaker);
    current.inFlight++;
    let released = false;
    return {
      ok: true,
      host,
      release: (failed) => {
        if (released) return;
        released = true;
        current.inFlight--;
        if (failed !== null) current.breaker.record(failed);
        this.publish(host, current.breaker);
      },
    };
  }

  private publish(host: string, breaker: CircuitBreaker): void {
    this.metrics.circuitState.set({ host }, STATE_VALUE[breaker.state]);
  }
}
