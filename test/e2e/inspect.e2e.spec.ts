import pg from 'pg';
import { SagaRepository } from '../../src/executions/saga.repository.js';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi, type SagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Inspecting sagas (SPEC §4)', () => {
  /** Two instances of one deployment: `t` serves the API only, `w` runs the workers. */
  let t: TestApp;
  let w: TestApp;
  let api: HttpClient;
  let p: Participant;
  let register: SagaApi['register'];
  let settled: SagaApi['settled'];

  beforeAll(async () => {
    t = await startTestApp({ ROLE: 'api' });
    w = await startTestApp({ ROLE: 'worker' }, t);
    api = httpClient(t.baseUrl);
    ({ register, settled } = sagaApi(api));
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await w.close();
    await t.close();
  });

  function step(name: string, extra: Record<string, unknown> = {}) {
    return {
      name,
      action: { type: 'http', url: `${p.url}/${name}` },
      compensation: { type: 'http', url: `${p.url}/${name}/undo` },
      retry: { maxAttempts: 1 },
      timeoutMs: 5000,
      ...extra,
    };
  }



  /** Counts saga reads on the API instance. */
  function countReads(): { count: number; restore(): void } {
    const repo = t.app.get(SagaRepository);
    const original = repo.find.bind(repo);
    const counter = {
      count: 0,
      restore: () => {
        repo.find = original;
      },
    };
    repo.find = (id: string) => {
      counter.count++;
      return original(id);
    };
    return counter;
  }

  describe('waitMs', () => {
    it('should wake 200 waiting requests when the saga completes on another instance, without reading the saga while they wait', async () => {
      await register('wait-slow', [step('ws1')]);
      p.on('/ws1', () => ({ status: 200, body: { done: true }, delayMs: 1500 }));
      const id = (await api.post('/v1/sagas', { definition: 'wait-slow' })).body.id;
      const reads = countReads();
      try {
        const started = Date.now();
        const waiting = Promise.all(Array.from({ length: 200 }, () => api.get(`/v1/sagas/${id}?waitMs=20000`)));
        await sleep(700);
        const readsWhileWaiting = reads.count;
        expect(readsWhileWaiting).toBeGreaterThanOrEqual(200); // each request's first read
        await sleep(500);
        expect(reads.count).toBe(readsWhileWaiting); // nothing more until the notification
        const answers = await waiting;
        const elapsed = Date.now() - started;
        expect(answers.every((a) => a.status === 200 && a.body.status === 'COMPLETED')).toBe(true);
        expect(elapsed).toBeLessThan(10_000);
        expect(reads.count - readsWhileWaiting).toBeLessThanOrEqual(200); // one read each after the wake-up
      } finally {
        reads.restore();
      }
    });

    it('should answer with the current state when waitMs passes first', async () => {
      await register('wait-hang', [step('wh1')]);
      p.on('/wh1', () => 'hang');
      const id = (await api.post('/v1/sagas', { definition: 'wait-hang' })).body.id;
      const started = Date.now();
      const res = await api.get(`/v1/sagas/${id}?waitMs=400`);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('RUNNING');
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(3000);
    });

    it('should return from POST once the saga settles, PAUSED included', async () => {
      await register('wait-post', [step('wp1'), step('wp2')]);
      await register('wait-pause', [step('wq1')], { onStepFailure: 'pause' });
      p.on('/wq1', () => ({ status: 422 }));
      const started = Date.now();
      const done = await api.post('/v1/sagas?waitMs=20000', { definition: 'wait-post', input: { a: 1 } });
      expect(done.status).toBe(202);
      expect(done.body).toMatchObject({ status: 'COMPLETED', results: { wp1: { ok: true, path: '/wp1' } } });
      const paused = await api.post('/v1/sagas?waitMs=20000', { definition: 'wait-pause' });
      expect(paused.body.status).toBe('PAUSED');
      expect(Date.now() - started).toBeLessThan(10_000); // woken, not timed out
    });

    it('should still wake waiters after the listening connection was killed', async () => {
      await register('wait-reconnect', [step('wr1')]);
      p.on('/wr1', () => ({ status: 200, body: {}, delayMs: 1500 }));
      const admin = new pg.Client({ connectionString: t.database.url });
      await admin.connect();
      try {
        const { rowCount } = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'saga-orchestrator-listener' AND datname = current_database()`,
        );
        expect(rowCount).toBe(1); // the API instance's (workers do not listen)
        const started = Date.now();
        const res = await api.post('/v1/sagas?waitMs=20000', { definition: 'wait-reconnect' });
        expect(res.body.status).toBe('COMPLETED');
        expect(Date.now() - started).toBeLessThan(10_000);
        await waitFor('the listener to reconnect', async () => {
          const r = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'saga-orchestrator-listener' AND datname = current_database()`);
          return r.rowCount === 1 ? true : undefined;
        });
      } finally {
        await admin.end();
      }
    });

    it.each(['-1', '60001', 'soon', '1.5'])('should refuse waitMs=%s with 400', async (value) => {
      const res = await api.get(`/v1/sagas/00000000-0000-4000-8000-000000000000?waitMs=${value}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('waitMs');
    });

    it('should answer 404 at once for an unknown saga with waitMs', async () => {
      expect((await api.get('/v1/sagas/00000000-0000-4000-8000-000000000000?waitMs=5000')).status).toBe(404);
    });
  });

  describe('GET /v1/sagas', () => {
    const created: Record<string, string[]> = { 'ls-a': [], 'ls-b': [] };
    let paused: string[] = [];
    let beforeB: string;

    beforeAll(async () => {
      await register('ls-a', [step('la1')]);
      await register('ls-b', [step('lb1')], { onStepFailure: 'pause' });
      p.on('/lb1', () => ({ status: 422 }));
      for (let i = 0; i < 12; i++) {
        created['ls-a'].push((await api.post('/v1/sagas', { definition: 'ls-a', correlationId: `order-${i % 3}` })).body.id);
      }
      await sleep(20);
      beforeB = new Date().toISOString();
      for (let i = 0; i < 5; i++) created['ls-b'].push((await api.post('/v1/sagas', { definition: 'ls-b', correlationId: `order-${i}` })).body.id);
      paused = created['ls-b'];
      await Promise.all([...created['ls-a'], ...created['ls-b']].map(settled));
    });

    const ids = (res: { body: { items: Array<{ id: string }> } }) => res.body.items.map((i) => i.id);

    it('should list newest first with the summary of each saga', async () => {
      const res = await api.get('/v1/sagas?definition=ls-a&limit=100');
      expect(res.status).toBe(200);
      expect(ids(res)).toEqual([...created['ls-a']].reverse());
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items[0]).toEqual({
        id: created['ls-a'][11],
        definition: 'ls-a',
        version: 1,
        run: 1,
        status: 'COMPLETED',
        correlationId: 'order-2',
        currentStep: 'la1',
        phase: 'action',
        error: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        finishedAt: expect.any(String),
      });
    });

    it('should filter by status (one or several), definition, correlation id and creation time', async () => {
      expect(ids(await api.get('/v1/sagas?definition=ls-b&status=PAUSED'))).toEqual([...paused].reverse());
      expect(ids(await api.get('/v1/sagas?definition=ls-b&status=COMPLETED'))).toEqual([]);
      expect(ids(await api.get('/v1/sagas?definition=ls-b&status=RUNNING,PAUSED'))).toEqual([...paused].reverse());
      expect(ids(await api.get('/v1/sagas?definition=ls-b&status=RUNNING&status=PAUSED'))).toEqual([...paused].reverse());
      const byCorrelation = ids(await api.get('/v1/sagas?correlationId=order-1'));
      expect(new Set(byCorrelation)).toEqual(new Set([created['ls-a'][1], created['ls-a'][4], created['ls-a'][7], created['ls-a'][10], created['ls-b'][1]]));
      expect(ids(await api.get('/v1/sagas?correlationId=order-1&definition=ls-b'))).toEqual([created['ls-b'][1]]);
      expect(ids(await api.get(`/v1/sagas?definition=ls-a&createdFrom=${beforeB}`))).toEqual([]);
      expect(ids(await api.get(`/v1/sagas?definition=ls-a&createdTo=${beforeB}&limit=100`))).toHaveLength(12);
      expect(ids(await api.get(`/v1/sagas?createdFrom=${beforeB}&limit=100`)).filter((id) => created['ls-b'].includes(id))).toHaveLength(5);
    });

    it('should page without duplicates or gaps while new sagas are being created', async () => {
      const existing = [...created['ls-a']].reverse();
      let creating = true;
      const newOnes: string[] = [];
      const creator = (async () => {
        while (creating) newOnes.push((await api.post('/v1/sagas', { definition: 'ls-a' })).body.id);
      })();
      const seen: string[] = [];
      let cursor: string | null = null;
      const firstPage = await api.get('/v1/sagas?definition=ls-a&limit=5');
      const atStart = ids(firstPage);
      seen.push(...atStart);
      cursor = firstPage.body.nextCursor;
      while (cursor) {
        await sleep(15);
        const page = await api.get(`/v1/sagas?definition=ls-a&limit=5&cursor=${cursor}`);
        expect(page.status).toBe(200);
        seen.push(...ids(page));
        cursor = page.body.nextCursor;
      }
      creating = false;
      await creator;
      expect(newOnes.length).toBeGreaterThan(0);
      expect(new Set(seen).size).toBe(seen.length);
      // Everything that existed when the first page was read, in order, after the new ones the first page caught.
      const olderThanFirstPage = seen.filter((id) => existing.includes(id));
      expect(olderThanFirstPage).toEqual(existing);
      expect(seen.filter((id) => !existing.includes(id)).every((id) => newOnes.includes(id))).toBe(true);
      await Promise.all(newOnes.map(settled));
      created['ls-a'].push(...newOnes);
    });

    it.each([
      ['status=BOGUS', 'status'],
      ['cursor=not-a-cursor', 'cursor'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['createdFrom=yesterday', 'createdFrom'],
      ['definition=bad%20name', 'definition'],
      ['color=red', 'color'],
    ])('should refuse %s with 400 naming %s', async (query, path) => {
      const res = await api.get(`/v1/sagas?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    });
  });

  describe('events', () => {
    it('should page through a long history in order without gaps', async () => {
      await register('ev-long', [step('e1'), step('e2'), step('e3'), step('e4')]);
      const id = (await api.post('/v1/sagas', { definition: 'ev-long' })).body.id;
      await settled(id);
      const all = (await api.get(`/v1/sagas/${id}/events`)).body.items;
      expect(all.length).toBe(10);
      const paged: unknown[] = [];
      let after = '0';
      for (;;) {
        const page = await api.get(`/v1/sagas/${id}/events?after=${after}&limit=3`);
        paged.push(...page.body.items);
        if (!page.body.nextCursor) break;
        after = page.body.nextCursor;
      }
      expect(paged).toEqual(all);
      expect(all.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  describe('GET /v1/stats', () => {
    it('should count sagas per status and per definition', async () => {
      await register('st-a', [step('sa1')]);
      await register('st-b', [step('sb1')], { onStepFailure: 'pause' });
      p.on('/sb1', () => ({ status: 422 }));
      const a = await Promise.all(Array.from({ length: 4 }, () => api.post('/v1/sagas', { definition: 'st-a' })));
      const b = await Promise.all(Array.from({ length: 2 }, () => api.post('/v1/sagas', { definition: 'st-b' })));
      await Promise.all([...a, ...b].map((r) => settled(r.body.id)));
      await sleep(2100); // past the cache
      const res = await api.get('/v1/stats');
      expect(res.status).toBe(200);
      const stA = res.body.byDefinition.find((d: { definition: string }) => d.definition === 'st-a');
      const stB = res.body.byDefinition.find((d: { definition: string }) => d.definition === 'st-b');
      expect(stA).toEqual({ definition: 'st-a', total: 4, byStatus: { RUNNING: 0, COMPLETED: 4, COMPENSATING: 0, COMPENSATED: 0, PAUSED: 0, FAILED: 0 } });
      expect(stB.byStatus.PAUSED).toBe(2);
      const sum = res.body.byDefinition.reduce((n: number, d: { total: number }) => n + d.total, 0);
      expect(res.body.total).toBe(sum);
      expect(Object.values(res.body.byStatus).reduce((n: number, c) => n + (c as number), 0)).toBe(sum);
    });
  });
});
