/**
 * Named places where a test can make the process die (SIGKILL, no cleanup),
 * so recovery is tested on purpose. Armed only through the CRASH_POINTS
 * setting: `name` dies at the first pass, `name@3` at the third.
 */
const armed = new Map<string, number>();

export const CRASH_POINT_NAMES = ['after-commit-before-publish', 'after-commit-before-carried-call'] as const;
export type CrashPointName = (typeof CRASH_POINT_NAMES)[number];

export function armCrashPoints(specs: readonly string[]): void {
  for (const spec of specs) {
    const [name, nth] = spec.split('@');
    armed.set(name, nth ? Number(nth) : 1);
  }
}

export function crashPoint(name: CrashPointName): void {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed.set(name, left - 1);
    return;
  }
  process.stderr.write(`crash point ${name} reached: killing the process\n`);
  process.kill(process.pid, 'SIGKILL');
}
