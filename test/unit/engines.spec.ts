import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

/**
 * The README promises Node.js 20.19 or newer (package.json `engines`): every
 * package the lock file installs must accept that version, or `npm ci` warns
 * EBADENGINE and the package may use what Node 20 lacks.
 */
describe('Node.js version support', () => {
  it('should install only packages that accept the oldest Node.js version we support', () => {
    const supported = semver.minVersion(read('package.json').engines.node)!;
    expect(supported.major).toBe(20);
    const lock = read('package-lock.json') as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const refusing = Object.entries(lock.packages)
      .filter(([name, p]) => name && p.engines && !Array.isArray(p.engines) && p.engines.node && !semver.satisfies(supported, p.engines.node))
      .map(([name, p]) => `${name.replace(/^.*node_modules\//, '')} needs node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
