import { Client } from 'pg';
import { httpClient } from '../support/http-client.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { BASE_DATABASE_URL } from '../support/test-database.js';

async function adminQuery(sql: string): Promise<void> {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('Health endpoints', () => {
  describe('with Postgres and Redis up', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('should answer /health/live with 200', async () => {
      const res = await httpClient(t.baseUrl).get('/health/live');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
    });

    it('should answer /health/ready with 200 and both checks up', async () => {
      const res = await httpClient(t.baseUrl).get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.details.postgres.status).toBe('up');
      expect(res.body.details.redis.status).toBe('up');
    });

    it('should answer /health/ready with 503 NOT_READY while Postgres refuses connections, and recover', async () => {
      const api = httpClient(t.baseUrl);
      const db = t.database.name;
      try {
        await adminQuery(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
        await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}'`);
        const res = await api.get('/health/ready');
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.body.code).toBe('NOT_READY');
        expect(res.body.checks.postgres.status).toBe('down');
        expect(res.body.checks.redis.status).toBe('up');
        expect((await api.get('/health/live')).status).toBe(200);
      } finally {
        await adminQuery(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
      }
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await api.get('/health/ready')).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    });
  });

  describe('with Redis unreachable', () => {
    let t: TestApp;
    beforeAll(async () => {
      // Port 1 on loopback: nothing listens there.
      // Role api: this checks readiness; BullMQ workers against a dead Redis are the outage suite's subject.
      t = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1', ROLE: 'api' });
    });
    afterAll(async () => {
      await t.close();
    });

    it('should answer /health/ready with 503 naming redis, while /health/live stays 200', async () => {
      const api = httpClient(t.baseUrl);
      const ready = await api.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('NOT_READY');
      expect(ready.body.detail).toContain('redis');
      expect(ready.body.checks.redis.status).toBe('down');
      expect(ready.body.checks.postgres.status).toBe('up');
      expect((await api.get('/health/live')).status).toBe(200);
    });
  });
});
