import { ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { httpClient } from '../support/http-client.js';
import { assertBuilt, freePort, MIGRATE_ENTRY, runToEnd, SERVER_ENTRY, startServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';
import { createTestDatabase, TestDatabase } from '../support/test-database.js';
import { BASE_REDIS_URL, createTestRedisPrefix } from '../support/test-redis.js';

describe('The server process (compiled, as shipped)', () => {
  beforeAll(() => assertBuilt());

  describe('configuration', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['ROLE', 'scheduler'],
      ['LOG_LEVEL', 'loud'],
      ['MIGRATE_ON_START', 'yes'],
      ['DB_POOL_SIZE', '0'],
      ['REDIS_PREFIX', 'has:colon'],
      ['REDIS_URL', 'http://127.0.0.1:6379'],
    ])('should refuse %s=%s with one line naming the variable and exit 1', async (name, value) => {
      const result = await runToEnd(SERVER_ENTRY, { [name]: value });
      expect(result.code).toBe(1);
      const lines = (result.stdout + result.stderr).split('\n').filter((l) => l.trim());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^Invalid configuration: ${name} `));
    });

    it('should not repeat a secret-bearing value in the error', async () => {
      const result = await runToEnd(SERVER_ENTRY, { DATABASE_URL: 'mysql://admin:hunter2-secret@db/x' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('DATABASE_URL');
      expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
    });
  });

  describe('roles and migrations at start', () => {
    let db: TestDatabase;
    const redis = createTestRedisPrefix();

    beforeAll(async () => {
      db = await createTestDatabase({ migrate: false });
    });
    afterAll(async () => {
      await redis.cleanup();
      await db.drop();
    });

    it('should migrate at start when MIGRATE_ON_START=true, serve /v1 as role api, and exit 0 on SIGTERM', async () => {
      const server = await startServerProcess({
        DATABASE_URL: db.url,
        REDIS_URL: BASE_REDIS_URL,
        REDIS_PREFIX: redis.prefix,
        ROLE: 'api',
        MIGRATE_ON_START: 'true',
      });
      try {
        const api = httpClient(server.baseUrl);
        expect((await api.get('/health/ready')).status).toBe(200);
        const created = await api.post('/v1/definitions', {
          name: 'from-process',
          steps: [{ name: 'a', action: { type: 'queue', queue: 'q', task: 't' } }],
        });
        expect(created.status).toBe(201);
        expect(server.output()).toContain(`listening on ${server.baseUrl}`);
        expect(server.output()).toContain('applied migrations');
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
    });

    it('should serve health but not /v1 as role worker', async () => {
      const server = await startServerProcess({
        DATABASE_URL: db.url,
        REDIS_URL: BASE_REDIS_URL,
        REDIS_PREFIX: redis.prefix,
        ROLE: 'worker',
      });
      try {
        const api = httpClient(server.baseUrl);
        expect((await api.get('/health/ready')).status).toBe(200);
        const res = await api.get('/v1/definitions');
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('ROUTE_NOT_FOUND');
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
    });
  });

  describe('Redis settings at start', () => {
    let db: TestDatabase;
    let redisServer: ChildProcess;
    let redisUrl: string;

    beforeAll(async () => {
      db = await createTestDatabase();
      // A Redis of its own: the test changes its eviction policy.
      const port = await freePort();
      redisUrl = `redis://127.0.0.1:${port}`;
      redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
      redisServer.on('error', (error) => {
        throw new Error(`redis-server could not start (${error.message}); install it: apt-get install redis-server`);
      });
      const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await waitFor('the private redis-server to answer', async () => {
        try {
          await client.connect();
          return (await client.ping()) === 'PONG' ? true : undefined;
        } catch {
          client.disconnect();
          return undefined;
        }
      });
      client.disconnect();
    });
    afterAll(async () => {
      redisServer.kill('SIGKILL');
      await db.drop();
    });

    /** The server's log entries (JSON lines) whose message contains `text`. */
    const logged = (server: { output(): string }, text: string) =>
      server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: string; msg: string })
        .filter((e) => e.msg.includes(text));

    const startAgainst = () =>
      startServerProcess({ DATABASE_URL: db.url, REDIS_URL: redisUrl, REDIS_PREFIX: 'settings', ROLE: 'api', LOG_LEVEL: 'debug' });

    it('should warn loudly when Redis may evict keys, and say how to fix it', async () => {
      const server = await startAgainst();
      try {
        const [entry] = await waitFor('the eviction warning', async () => {
          const found = logged(server, 'maxmemory-policy is "allkeys-lru"');
          return found.length ? found : undefined;
        });
        expect(entry.level).toBe('warn');
        expect(entry.msg).toContain('CONFIG SET maxmemory-policy noeviction');
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
    });

    it('should not warn when the policy is noeviction', async () => {
      const admin = new Redis(redisUrl);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
      const server = await startAgainst();
      try {
        await waitFor('the policy check', async () => (logged(server, 'maxmemory-policy is "noeviction"').length ? true : undefined));
        expect(server.output()).not.toContain('may delete queued work');
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
    });
  });

  describe('npm run migrate', () => {
    it('should apply pending migrations once, then report the schema up to date', async () => {
      const db = await createTestDatabase({ migrate: false });
      try {
        const first = await runToEnd(MIGRATE_ENTRY, { DATABASE_URL: db.url });
        expect(first.code).toBe(0);
        expect(first.stdout).toMatch(/^Applied migrations: CreateDefinitions/);
        const second = await runToEnd(MIGRATE_ENTRY, { DATABASE_URL: db.url });
        expect(second.code).toBe(0);
        expect(second.stdout.trim()).toBe('Database schema is up to date.');
      } finally {
        await db.drop();
      }
    });

    it('should fail with a hint when Postgres does not answer', async () => {
      const result = await runToEnd(MIGRATE_ENTRY, { DATABASE_URL: 'postgres://postgres:pw-not-shown@127.0.0.1:1/none' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Check DATABASE_URL');
      expect(result.stderr).not.toContain('pw-not-shown');
    });
  });
});
