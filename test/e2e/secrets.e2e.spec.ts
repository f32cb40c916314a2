import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startOwnServer, type OwnServer } from '../support/own-server.js';
import type { ServerProcess } from '../support/server-process.js';
import { BASE_REDIS_URL } from '../support/test-redis.js';

/** Everything Redis holds under a prefix, as text. */
async function redisDump(url: string, prefix: string): Promise<string> {
  const redis = new Redis(url);
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', '500');
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        parts.push(key);
        if (type === 'string') parts.push((await redis.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}

describe('Secrets in participant headers', () => {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  let own: OwnServer;
  let server: ServerProcess;
  let p: Participant;

  beforeAll(async () => {
    p = await new Participant().start();
    own = await startOwnServer({ LOG_LEVEL: 'trace', SAGA_SECRET_CANARY: canary });
    server = own.server;
  });
  afterAll(async () => {
    await own.close();
    await p.stop();
  });

  it('should send the secret to the participant and nowhere else: not in Postgres, Redis, logs or API answers', async () => {
    const api = httpClient(server.baseUrl);
    const { settled, events } = sagaApi(api);
    const headers = { authorization: 'Bearer ${secret:CANARY}', 'x-api-key': '${secret:CANARY}', 'x-team': 'shop' };
    const step = (name: string) => ({
      name,
      action: { type: 'http', url: `${p.url}/${name}`, headers },
      compensation: { type: 'http', url: `${p.url}/${name}/undo`, headers },
      retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 },
    });
    p.on('/sc2', (call) => (call.body.input.fail ? { status: 500, body: { error: 'down' } } : { status: 200, body: { ok: true } }));
    const registered = await api.post('/v1/definitions', { name: 'secretive', steps: [step('sc1'), step('sc2')] });
    expect(registered.status).toBe(201);
    const ok = await settled((await api.post('/v1/sagas', { definition: 'secretive', input: {} })).body.id);
    const failed = await settled((await api.post('/v1/sagas', { definition: 'secretive', input: { fail: true } })).body.id);
    expect([ok.status, failed.status]).toEqual(['COMPLETED', 'COMPENSATED']);

    // The participant got the value, on actions and compensations alike.
    const calls = p.calls.filter((c) => c.body?.sagaId === ok.id || c.body?.sagaId === failed.id);
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const call of calls) {
      expect(call.headers.authorization).toBe(`Bearer ${canary}`);
      expect(call.headers['x-api-key']).toBe(canary);
    }

    // API answers show the reference, never the value.
    const answers = [
      registered.body,
      (await api.get('/v1/definitions/secretive')).body,
      (await api.get('/v1/definitions/secretive/versions')).body,
      (await api.get(`/v1/sagas/${ok.id}`)).body,
      (await api.get(`/v1/sagas/${failed.id}`)).body,
      await events(ok.id),
      await events(failed.id),
      (await api.get('/v1/sagas')).body,
      (await api.get('/v1/audit')).body,
      (await api.get('/metrics')).body,
    ];
    expect(JSON.stringify(answers)).toContain('${secret:CANARY}');
    expect(JSON.stringify(answers)).not.toContain(canary);

    // Postgres: every row of every table, as text.
    const client = new pg.Client({ connectionString: own.database.url });
    await client.connect();
    try {
      const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r) => r.tablename as string);
      expect(tables.length).toBeGreaterThan(5);
      for (const table of tables) {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table} t WHERE t::text LIKE $1`, [`%${canary}%`]);
        expect({ table, rows: rows[0].n }).toEqual({ table, rows: 0 });
      }
    } finally {
      await client.end();
    }

    // Redis: every key under the server's prefix and its contents.
    const redis = await redisDump(BASE_REDIS_URL, own.redisPrefix);
    expect(redis.length).toBeGreaterThan(100);
    expect(redis).not.toContain(canary);

    // Logs, at the most verbose level.
    expect(server.output().length).toBeGreaterThan(0);
    expect(server.output()).not.toContain(canary);
  });

  it.each([
    [{ authorization: 'Bearer abc123' }, 'must come from a secret'],
    [{ cookie: 'session=1' }, 'must come from a secret'],
    [{ 'x-token': '${secret:lower_case}' }, 'malformed secret reference'],
    [{ 'x-token': '${secret:NOT_CONFIGURED}' }, 'not configured'],
  ])('should refuse headers %j (%s)', async (headers, message) => {
    const res = await httpClient(server.baseUrl).post('/v1/definitions', { name: 'bad-secret', steps: [{ name: 'b1', action: { type: 'http', url: `${p.url}/b1`, headers } }] });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ path: expect.stringMatching(/^steps\[0\]\.action\.headers/), message: expect.stringContaining(message) });
  });
});
