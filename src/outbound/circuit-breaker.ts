/** Settings of the per-host circuit breakers (see AppConfig). */
export interface CircuitSettings {
  /** Share of failed calls (0-1) in the window that opens the circuit. */
  failureRate: number;
  /** Calls the window must hold before the rate counts. */
  minCalls: number;
  windowMs: number;
  /** How long an open circuit waits before one probe call is let through. */
  openMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * One participant host's circuit. Closed: calls go through and their
 * outcomes are counted over a sliding window; when failures reach
 * `failureRate` of at least `minCalls` calls, it opens. Open: no call goes
 * through for `openMs`; then half-open: one probe goes through; its success
 * closes the circuit, its failure opens it again. Failures are what say the
 * host is unwell (timeouts, connection errors, 5xx, 429), not a participant's
 * business answer (other 4xx).
 */
export class CircuitBreaker {
  /** The window's outcomes, oldest first from `head` (a queue: recording is O(1) amortised at any call rate). */
  private outcomes: Array<{ at: number; failed: boolean }> = [];
  private head = 0;
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  state: CircuitState = 'closed';

  constructor(
    private readonly settings: CircuitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** May a call go now? In half-open, only the one probe may. */
  tryAcquire(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.now() - this.openedAt < this.settings.openMs) return false;
      this.state = 'half-open';
      this.probing = false;
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  /** When the circuit will let a call (or probe) through again, for callers that wait. */
  retryAt(): number {
    return this.state === 'open' ? this.openedAt + this.settings.openMs : this.now() + Math.min(this.settings.openMs, 1_000);
  }

  record(failed: boolean): void {
    const now = this.now();
    if (this.state === 'half-open') {
      this.probing = false;
      if (failed) this.open(now);
      else this.close();
      return;
    }
    if (this.state === 'open') return;
    this.outcomes.push({ at: now, failed });
    if (failed) this.failures++;
    while (now - this.outcomes[this.head].at > this.settings.windowMs) {
      if (this.outcomes[this.head].failed) this.failures--;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.outcomes.length) {
      this.outcomes = this.outcomes.slice(this.head);
      this.head = 0;
    }
    const calls = this.outcomes.length - this.head;
    if (calls >= this.settings.minCalls && this.failures / calls >= this.settings.failureRate) this.open(now);
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.forget();
  }

  private close(): void {
    this.state = 'closed';
    this.forget();
  }

  private forget(): void {
    this.outcomes = [];
    this.head = 0;
    this.failures = 0;
  }
}
