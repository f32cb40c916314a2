import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import { TEST_ADMIN_KEY } from '../support/api-key.js';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startServerProcess } from '../support/server-process.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/** What each route needs ('any': any valid key); a route missing here fails the walk, so a new endpoint must declare its scope. */
const EXPECTED: Record<string, Scope | 'public' | 'any'> = {
  'post /v1/definitions': 'definitions:write',
  'get /v1/definitions': 'definitions:read',
  'get /v1/definitions/{name}': 'definitions:read',
  'get /v1/definitions/{name}/versions': 'definitions:read',
  'get /v1/definitions/{name}/versions/{version}': 'definitions:read',
  'delete /v1/definitions/{name}': 'definitions:write',
  'post /v1/sagas': 'sagas:write',
  'get /v1/sagas': 'sagas:read',
  'post /v1/sagas/replay': 'sagas:replay',
  'get /v1/sagas/{id}': 'sagas:read',
  'get /v1/sagas/{id}/events': 'sagas:read',
  'post /v1/sagas/{id}/cancel': 'sagas:write',
  'post /v1/sagas/{id}/replay': 'sagas:replay',
  'post /v1/sagas/{id}/signals/{signal}': 'sagas:signal',
  'post /v1/callbacks/{token}': 'public',
  'get /v1/stats': 'sagas:read',
  'post /v1/keys': 'keys:admin',
  'get /v1/keys': 'keys:admin',
  'get /v1/keys/current': 'any',
  'delete /v1/keys/{id}': 'keys:admin',
  'get /v1/audit': 'keys:admin',
  'get /health/live': 'public',
  'get /health/ready': 'public',
};

describe('API keys, scopes, rate limits and the audit trail', () => {
  let t: TestApp;
  let admin: HttpClient;
  let p: Participant;
  const keyFor = {} as Record<Scope, string>;

  beforeAll(async () => {
    t = await startTestApp();
    admin = httpClient(t.baseUrl);
    p = await new Participant().start();
    for (const scope of SCOPES) {
      const res = await admin.post('/v1/keys', { name: `only-${scope}`, scopes: [scope] });
      expect(res.status).toBe(201);
      keyFor[scope] = res.body.key;
    }
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  it('should answer 401 without a key, 403 without the scope, and let the scope through, on every endpoint', async () => {
    const doc = (await admin.get('/docs/openapi.json')).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(routes.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const route of routes) {
      const [method, template] = route.split(' ');
      const path = template
        .replace('{id}', '00000000-0000-4000-8000-000000000000')
        .replace('{name}', 'nothing-here')
        .replace('{version}', '1')
        .replace('{signal}', 'go')
        .replace('{token}', 'x'.repeat(43));
      const call = (key: string | null, headers: Record<string, string> = {}) =>
        httpClient(t.baseUrl, key).request(method.toUpperCase(), path, method === 'post' ? {} : undefined, headers);
      const expected = EXPECTED[route];
      if (expected === 'public') {
        // A callback's token is its credential: an unknown one is 404 (or 400 for a body without status), never 401.
        const status = (await call(null)).status;
        expect({ route, status }).toEqual({ route, status: method === 'post' ? 400 : 200 });
        continue;
      }
      const anonymous = await call(null);
      expect({ route, status: anonymous.status, code: anonymous.body.code }).toEqual({ route, status: 401, code: 'UNAUTHENTICATED' });
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      expect({ route, status: (await call('sk_00000000_not-a-real-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).status }).toEqual({ route, status: 401 });
      for (const scope of SCOPES) {
        const res = await call(keyFor[scope]);
        if (scope === expected || expected === 'any') {
          expect({ route, scope, allowed: res.status !== 401 && res.status !== 403 }).toEqual({ route, scope, allowed: true });
        } else {
          expect({ route, scope, status: res.status, code: res.body.code }).toEqual({ route, scope, status: 403, code: 'FORBIDDEN' });
          expect(res.body.requiredScope).toBe(expected);
        }
      }
      // X-API-Key works as well as the bearer token.
      const viaHeader = await call(null, { 'x-api-key': keyFor[expected === 'any' ? 'sagas:read' : expected] });
      expect({ route, allowed: viaHeader.status !== 401 && viaHeader.status !== 403 }).toEqual({ route, allowed: true });
    }
  });

  it('should show a key once, store only its hash, and stop it at once when revoked', async () => {
    const created = await admin.post('/v1/keys', { name: 'reader', scopes: ['sagas:read', 'sagas:read'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'reader', scopes: ['sagas:read'], createdBy: 'bootstrap', revokedAt: null, expiresAt: null });
    expect(created.body.key).toMatch(/^sk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.body.key.startsWith(created.body.prefix)).toBe(true);
    const reader = httpClient(t.baseUrl, created.body.key);
    expect((await reader.get('/v1/sagas')).status).toBe(200);

    const listed = await admin.get('/v1/keys');
    const entry = listed.body.items.find((k: { id: string }) => k.id === created.body.id);
    expect(entry).toEqual({ ...created.body, key: undefined });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key.slice(12));
    const db = new pg.Client({ connectionString: t.database.url });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT * FROM api_key WHERE id = $1`, [created.body.id]);
      expect(rows[0].hash).toBe(createHash('sha256').update(created.body.key).digest('hex'));
      expect(JSON.stringify(rows[0])).not.toContain(created.body.key.slice(12));
    } finally {
      await db.end();
    }

    const revoked = await admin.delete(`/v1/keys/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await reader.get('/v1/sagas')).status).toBe(401);
    expect((await admin.delete('/v1/keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('should refuse an expired key', async () => {
    const created = await admin.post('/v1/keys', { name: 'short-lived', scopes: ['sagas:read'], expiresAt: new Date(Date.now() + 1500).toISOString() });
    const key = httpClient(t.baseUrl, created.body.key);
    expect((await key.get('/v1/sagas')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    expect((await key.get('/v1/sagas')).status).toBe(401);
    expect((await admin.post('/v1/keys', { name: 'past', scopes: ['sagas:read'], expiresAt: '2020-01-01T00:00:00Z' })).status).toBe(400);
  });

  it.each([
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['sagas:delete'] }, 'scopes'],
    [{ name: '', scopes: ['sagas:read'] }, 'name'],
    [{ name: 'x', scopes: ['sagas:read'], admin: true }, 'admin'],
  ])('should refuse a bad key request %j with 400 naming %s', async (body, path) => {
    const res = await admin.post('/v1/keys', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('should record who registered, replayed and cancelled, in the audit trail and in the saga history', async () => {
    const opsKey = (await admin.post('/v1/keys', { name: 'ops-console', scopes: ['definitions:write', 'sagas:write', 'sagas:replay', 'sagas:read'] })).body;
    const ops = httpClient(t.baseUrl, opsKey.key);
    const { settled, events } = sagaApi(ops);
    p.on('/au1', () => ({ status: 422 }));
    expect((await ops.post('/v1/definitions', { name: 'audited', onStepFailure: 'pause', steps: [{ name: 'au1', action: { type: 'http', url: `${p.url}/au1` } }] })).status).toBe(201);
    const saga = await settled((await ops.post('/v1/sagas', { definition: 'audited' })).body.id);
    expect((await ops.post(`/v1/sagas/${saga.id}/replay`, { reason: 'retry once' })).status).toBe(202);
    await settled(saga.id);
    expect((await ops.post(`/v1/sagas/${saga.id}/cancel`, { reason: 'order withdrawn' })).status).toBe(202);
    const history = await events(saga.id);
    expect(history.find((e) => e.type === 'SagaReplayed')?.data).toMatchObject({ by: 'ops-console', reason: 'retry once' });
    expect(history.find((e) => e.type === 'SagaCancelled')?.data).toMatchObject({ by: 'ops-console', reason: 'order withdrawn' });
    const trail = (await admin.get('/v1/audit?limit=50')).body.items as Array<{ actor: string; action: string; target: string }>;
    const mine = trail.filter((e) => e.actor === 'ops-console').map((e) => `${e.action} ${e.target}`);
    expect(mine).toEqual([`saga.cancel ${saga.id}`, `saga.replay ${saga.id}`, 'definition.register audited@1']);
    expect(trail.some((e) => e.actor === 'bootstrap' && e.action === 'key.create' && e.target === opsKey.id)).toBe(true);
    expect(trail.find((e) => e.actor === 'ops-console' && e.action === 'saga.cancel')).toMatchObject({ details: { reason: 'order withdrawn' } });
  });

  it('should page the audit trail newest first by id, losing nothing across more than ten entries', async () => {
    for (let i = 0; i < 13; i++) {
      expect((await admin.post('/v1/keys', { name: `paged-${i}`, scopes: ['sagas:read'] })).status).toBe(201);
    }
    const all = (await admin.get('/v1/audit?limit=500')).body.items as Array<{ id: string }>;
    expect(all.length).toBeGreaterThan(12);
    const ids = all.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    const paged: string[] = [];
    let before: string | null = null;
    do {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = (await admin.get(`/v1/audit?limit=4${before ? `&before=${before}` : ''}`)).body;
      paged.push(...page.items.map((e) => e.id));
      before = page.nextCursor;
    } while (before);
    expect(paged).toEqual(all.map((e) => e.id));
  });

  it('should tell any valid key its own name and scopes (GET /v1/keys/current), and nobody else', async () => {
    const reader = (await admin.post('/v1/keys', { name: 'dashboard-reader', scopes: ['sagas:read', 'definitions:read'] })).body;
    const res = await httpClient(t.baseUrl, reader.key).get('/v1/keys/current');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: reader.id, name: 'dashboard-reader', scopes: ['definitions:read', 'sagas:read'] });
    expect((await httpClient(t.baseUrl).get('/v1/keys/current')).body).toMatchObject({ id: 'bootstrap', scopes: [...SCOPES] });
    expect((await httpClient(t.baseUrl, null).get('/v1/keys/current')).status).toBe(401);
    await admin.delete(`/v1/keys/${reader.id}`);
    expect((await httpClient(t.baseUrl, reader.key).get('/v1/keys/current')).status).toBe(401);
  });

  it('should limit requests per key with 429 and Retry-After, each key on its own', async () => {
    const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const a = httpClient(limited.baseUrl);
      const other = await a.post('/v1/keys', { name: 'other', scopes: ['sagas:read'] }); // the admin key's 1st request
      expect(other.status).toBe(201);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await a.get('/v1/sagas')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
      const over = await a.get('/v1/stats');
      expect(over.status).toBe(429);
      expect(over.body.code).toBe('RATE_LIMITED');
      expect(over.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another key has its own budget; health checks are not counted.
      expect((await httpClient(limited.baseUrl, other.body.key).get('/v1/sagas')).status).toBe(200);
      expect((await httpClient(limited.baseUrl, null).get('/health/live')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('should share a key\'s budget between instances, give or take one sync (100 ms)', async () => {
    const first = await startTestApp({ RATE_LIMIT_PER_MINUTE: '6' });
    const second = await startTestApp({ RATE_LIMIT_PER_MINUTE: '6' }, first);
    try {
      const statuses = async (baseUrl: string, n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push((await httpClient(baseUrl).get('/v1/sagas')).status);
        return out;
      };
      expect(await statuses(first.baseUrl, 4)).toEqual([200, 200, 200, 200]);
      await new Promise((r) => setTimeout(r, 400));
      // The second instance counts on from the first one's 4: two more, then 429.
      expect(await statuses(second.baseUrl, 3)).toEqual([200, 200, 429]);
      await new Promise((r) => setTimeout(r, 400));
      expect(await statuses(first.baseUrl, 1)).toEqual([429]);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('should limit failed authentications per address, without a lookup or a Redis counter per made-up key', async () => {
    const limited = await startTestApp({ AUTH_FAILURES_PER_MINUTE: '5' });
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const made = await httpClient(limited.baseUrl).post('/v1/keys', { name: 'made-before', scopes: ['sagas:read'] });
      const counters = async () => (await redis.keys(`${limited.redisPrefix}:rate-limit:*`)).length;
      const before = await counters();
      const bogus = () => `sk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
      const statuses: number[] = [];
      for (let i = 0; i < 130; i++) statuses.push((await httpClient(limited.baseUrl, bogus()).get('/v1/sagas')).status);
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
      const refused = await httpClient(limited.baseUrl, bogus()).get('/v1/sagas');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Made-up keys share their address's counter: at most one new counter, not 130.
      expect((await counters()) - before).toBeLessThanOrEqual(1);
      // A key verified lately is not held up by its address's failures; one not yet verified waits like the rest.
      expect((await httpClient(limited.baseUrl).get('/v1/sagas')).status).toBe(200);
      expect((await httpClient(limited.baseUrl, made.body.key).get('/v1/sagas')).status).toBe(429);
    } finally {
      redis.disconnect();
      await limited.close();
    }
  });

  it('should let everything through with AUTH_DISABLED=true, and say so at start', async () => {
    const server = await startServerProcess({ DATABASE_URL: t.database.url, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `${t.redisPrefix}_open`, AUTH_DISABLED: 'true', ROLE: 'api', LOG_LEVEL: 'warn' });
    try {
      expect((await httpClient(server.baseUrl, null).get('/v1/sagas')).status).toBe(200);
      expect(server.output()).toContain('AUTH_DISABLED=true');
      expect(server.output()).not.toContain(TEST_ADMIN_KEY);
    } finally {
      await server.stop();
    }
  });
});
