import { jest } from '@jest/globals';
import { loadConfig } from '../../src/config/app-config.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { ParticipantHosts, type Admission } from '../../src/outbound/participant-hosts.js';

describe(ParticipantHosts.name, () => {
  const url = 'http://participant.example:8080/step';
  const hosts = () => new ParticipantHosts(loadConfig({ PARTICIPANT_HOST_CONCURRENCY: '2' }), new Metrics());
  const admitted = (a: Admission) => {
    if (!a.ok) throw new Error(`not admitted: ${a.reason}`);
    return a;
  };

  afterEach(() => jest.useRealTimers());

  it('should hand a freed slot to a call waiting for it, keeping the cap', async () => {
    const h = hosts();
    const first = admitted(await h.admit(url));
    admitted(await h.admit(url));
    let third: Admission | undefined;
    const waiting = h.admit(url).then((a) => (third = a));
    await Promise.resolve();
    expect(third).toBeUndefined(); // two in flight: it waits
    first.release(false);
    await waiting;
    expect(third).toMatchObject({ ok: true });
  });

  it('should defer a call at once when half the cap already waits, and a waiter whose slot does not come in time', async () => {
    jest.useFakeTimers();
    const h = hosts();
    admitted(await h.admit(url));
    admitted(await h.admit(url));
    const waiting = h.admit(url); // the one waiter (half of 2)
    await expect(h.admit(url)).resolves.toMatchObject({ ok: false, reason: 'host-busy' });
    jest.advanceTimersByTime(250);
    await expect(waiting).resolves.toMatchObject({ ok: false, reason: 'host-busy' });
  });

  it('should give the slot back when the circuit refuses the call', async () => {
    const h = new ParticipantHosts(loadConfig({ PARTICIPANT_HOST_CONCURRENCY: '1', CIRCUIT_MIN_CALLS: '1', CIRCUIT_FAILURE_RATE: '1' }), new Metrics());
    admitted(await h.admit(url)).release(true); // opens the circuit
    await expect(h.admit(url)).resolves.toMatchObject({ ok: false, reason: 'circuit-open' });
    await expect(h.admit(url)).resolves.toMatchObject({ ok: false, reason: 'circuit-open' }); // not 'host-busy': the slot came back
  });
});
