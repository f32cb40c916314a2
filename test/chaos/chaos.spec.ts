import { CI_PROFILE, runChaos, SOAK_PROFILE, type Report } from './scenario.js';
import { assertBuilt } from '../support/server-process.js';

/**
 * The fault-injection run (issue 5). CI runs the small profile after every
 * other test, alone: it starts its own Postgres cluster and redis-server,
 * which it stops, flushes and restarts. `npm run soak` runs the long profile
 * (CHAOS_PROFILE=soak). CHAOS_SEED replays a given timeline.
 */
const profile = process.env.CHAOS_PROFILE === 'soak' ? SOAK_PROFILE : CI_PROFILE;
if (process.env.CHAOS_SEED) profile.seed = Number(process.env.CHAOS_SEED);

describe(`chaos (${profile.name} profile)`, () => {
  let report: Report;

  beforeAll(async () => {
    assertBuilt();
    report = await runChaos(profile, (line) => process.stderr.write(`${line}\n`));
  }, profile.name === 'soak' ? 3_600_000 : 600_000);

  it(`should inject at least 3 kills, a Redis flush and the other faults of the timeline`, () => {
    const kinds = report.faults.map((f) => f.kind);
    expect(kinds.filter((k) => k === 'kill').length).toBeGreaterThanOrEqual(3);
    expect(kinds).toEqual(expect.arrayContaining(['flush', 'freeze', 'redisRestart', 'pgTerminate', 'sigterm']));
    if (report.skipped.length === 0) expect(kinds).toContain('pgRestart');
    expect(report.accepted).toBeGreaterThanOrEqual(300);
  });

  it('should pass every check: nothing lost or stuck, compensations in reverse order, one key per step, no call after its compensation began', () => {
    const failing = Object.fromEntries(Object.entries(report.checks).filter(([, n]) => n > 0));
    expect({ failing, examples: failing && Object.keys(failing).length ? report.examples : {} }).toEqual({ failing: {}, examples: {} });
  });
});
