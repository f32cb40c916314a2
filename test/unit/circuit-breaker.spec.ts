import { CircuitBreaker } from '../../src/outbound/circuit-breaker.js';

describe(CircuitBreaker.name, () => {
  let now = 0;
  const breaker = () => new CircuitBreaker({ failureRate: 0.5, minCalls: 4, windowMs: 10_000, openMs: 1_000 }, () => now);
  beforeEach(() => (now = 1_000_000));

  it('should stay closed below the minimum number of calls, then open at the failure rate', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.record(true);
    expect(b.state).toBe('closed');
    b.record(false);
    expect(b.state).toBe('open'); // 3 of 4 failed
    expect(b.tryAcquire()).toBe(false);
  });

  it('should forget outcomes older than the window', () => {
    const b = breaker();
    b.record(true);
    b.record(true);
    now += 11_000;
    b.record(true);
    b.record(false);
    b.record(false);
    expect(b.state).toBe('closed'); // 1 of 3 in the window
  });

  it('should keep its counts right over many windows of calls', () => {
    const b = breaker();
    // 5,000 successes, one every 10 ms: the window keeps sliding and its storage is compacted.
    for (let i = 0; i < 5_000; i++) {
      now += 10;
      b.record(false);
    }
    // The window (10 s, ends included) holds the last 1,001 successes; 1,000 failures stay under 50%, the 1,001st reaches it.
    for (let i = 0; i < 1_000; i++) b.record(true);
    expect(b.state).toBe('closed');
    b.record(true);
    expect(b.state).toBe('open');
  });

  it('should let exactly one probe through after openMs, close on its success and reopen on its failure', () => {
    const b = breaker();
    for (let i = 0; i < 4; i++) b.record(true);
    now += 999;
    expect(b.tryAcquire()).toBe(false);
    now += 1;
    expect(b.tryAcquire()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(false); // the probe is out
    b.record(true);
    expect(b.state).toBe('open');
    expect(b.retryAt()).toBe(now + 1_000);
    now += 1_000;
    expect(b.tryAcquire()).toBe(true);
    b.record(false);
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });
});
