/**
 * Named places where a test can make the process die (SIGKILL, no cleanup),
 * so recovery is tested on purpose. Armed only through the CRASH_POINTS
 * setting: `name` dies at the first pass, `name@3` at the third;
 * `name:stop` freezes the process there instead (SIGSTOP, until the test
 * sends SIGCONT), like a VM pause or a long GC.
 */
const armed = new Map<string, number>();
const freezing = new Set<string>();

export const CRASH_POINT_NAMES = [
  'after-commit-before-publish',
  'after-commit-before-carried-call',
  // SPEC §10: a callback recorded on its token but not applied; applied, but not answered; a signal stored but not
  // delivered; taken by its waiting step but not applied.
  'after-callback-recorded',
  'after-callback-applied',
  'after-signal-stored',
  'after-signal-taken',
] as const;
export type CrashPointName = (typeof CRASH_POINT_NAMES)[number];

export function armCrashPoints(specs: readonly string[]): void {
  for (const spec of specs) {
    const [point, mode] = spec.split(':');
    const [name, nth] = point.split('@');
    armed.set(name, nth ? Number(nth) : 1);
    if (mode === 'stop') freezing.add(name);
  }
}

export function crashPoint(name: CrashPointName): void {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed.set(name, left - 1);
    return;
  }
  if (freezing.has(name)) {
    armed.delete(name);
    process.stderr.write(`crash point ${name} reached: stopping the process\n`);
    process.kill(process.pid, 'SIGSTOP');
    return;
  }
  process.stderr.write(`crash point ${name} reached: killing the process\n`);
  process.kill(process.pid, 'SIGKILL');
}
