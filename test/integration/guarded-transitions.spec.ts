import { jest } from '@jest/globals';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SagaTransitions } from '../../src/executions/saga-transitions.js';
import { OutstandingAttempts } from '../../src/executions/outstanding-attempts.js';
import { SagaRepository } from '../../src/executions/saga.repository.js';
import { JobPublisher } from '../../src/dispatch/job-publisher.js';
import { STEPS_QUEUE, stepJob } from '../../src/dispatch/step-job.js';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('Guarded transitions', () => {
  let t: TestApp;
  let p: Participant;

  beforeAll(async () => {
    t = await startTestApp();
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  it('should apply a result delivered many times at once exactly once, with a gapless history', async () => {
    const api = httpClient(t.baseUrl);
    // The participant never answers: the test itself delivers the step's result.
    p.on('/g1', () => 'hang');
    await api.post('/v1/definitions', { name: 'guarded', steps: [{ name: 'g1', action: { type: 'http', url: `${p.url}/g1` }, timeoutMs: 60_000 }, { name: 'g2', action: { type: 'http', url: `${p.url}/g2` } }] });
    const id = (await api.post('/v1/sagas', { definition: 'guarded' })).body.id;
    await waitFor('g1 to be called', async () => (p.callsTo('/g1').length ? true : undefined));

    const executions = t.app.get(SagaTransitions);
    const result = { type: 'attempt-succeeded', step: 0, phase: 'action', attempt: 1, output: { n: 1 } } as const;
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => executions.apply(id, result)));
    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'stale')).toHaveLength(9);

    const saga = await waitFor('completion', async () => {
      const s = (await api.get(`/v1/sagas/${id}`)).body;
      return s.status === 'COMPLETED' ? s : undefined;
    });
    expect(saga.results.g1).toEqual({ n: 1 });
    expect(p.callsTo('/g2').filter((c) => c.body.sagaId === id)).toHaveLength(1);

    const client = new Client({ connectionString: t.database.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT seq, type FROM saga_event WHERE saga_id = $1 ORDER BY seq', [id]);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_r, i) => i + 1));
      expect(rows.filter((r) => r.type === 'StepSucceeded')).toHaveLength(2);
      await waitFor('the outbox to drain', async () => ((await client.query('SELECT count(*)::int AS n FROM saga_outbox WHERE saga_id = $1', [id])).rows[0].n === 0 ? true : undefined));
    } finally {
      await client.end();
    }
  });
  it('should apply concurrent results of many sagas in shared statements, each saga guarded on its own', async () => {
    const api = httpClient(t.baseUrl);
    p.on('/b1', () => 'hang');
    await api.post('/v1/definitions', { name: 'batched', steps: [{ name: 'b1', action: { type: 'http', url: `${p.url}/b1` }, timeoutMs: 60_000 }, { name: 'b2', action: { type: 'http', url: `${p.url}/b2` } }] });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await api.post('/v1/sagas', { definition: 'batched', input: { i } })).body.id);
    await waitFor('every b1 call', async () => (p.callsTo('/b1').filter((c) => ids.includes(c.body.sagaId)).length === 12 ? true : undefined));

    // The hot statements run as prepared statements on the pool itself.
    const pool = (t.app.get(DataSource).driver as unknown as { master: { query: (config: { text?: string }) => Promise<unknown> } }).master;
    const query = jest.spyOn(pool, 'query');
    const executions = t.app.get(SagaTransitions);
    const result = (i: number) => ({ type: 'attempt-succeeded', step: 0, phase: 'action', attempt: 1, output: { i } }) as const;
    // Every result twice: the second of each pair must find its saga moved on.
    const outcomes = await Promise.all([...ids, ...ids].map((id, n) => executions.apply(id, result(n % 12))));
    const transitions = query.mock.calls.filter(([config]) => /UPDATE saga SET/.test(config?.text ?? ''));
    query.mockRestore();

    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(12);
    expect(outcomes.filter((o) => o.outcome === 'stale')).toHaveLength(12);
    // One statement per saga could not do the 12 applied transitions in under 12 statements.
    expect(transitions.length).toBeGreaterThan(0);
    expect(transitions.length).toBeLessThan(12);

    for (const [i, id] of ids.entries()) {
      const saga = await waitFor(`saga ${i} to complete`, async () => {
        const s = (await api.get(`/v1/sagas/${id}`)).body;
        return s.status === 'COMPLETED' ? s : undefined;
      });
      expect(saga.results.b1).toEqual({ i });
      const events = (await api.get(`/v1/sagas/${id}/events`)).body.items as Array<{ seq: number; type: string }>;
      expect(events.map((e) => e.seq)).toEqual(events.map((_e, n) => n + 1));
      expect(events.filter((e) => e.type === 'StepSucceeded')).toHaveLength(2);
    }
  });

  it('should keep, for the next attempt, the same saga that a read of the database returns', async () => {
    const api = httpClient(t.baseUrl);
    p.on('/k2', () => 'hang');
    await api.post('/v1/definitions', {
      name: 'kept',
      steps: [
        { name: 'k1', action: { type: 'http', url: `${p.url}/k1` } },
        { name: 'k2', action: { type: 'http', url: `${p.url}/k2` }, timeoutMs: 60_000 },
      ],
    });
    const id = (await api.post('/v1/sagas', { definition: 'kept', input: { n: 7 } })).body.id;
    await waitFor('k2 to be called', async () => (p.callsTo('/k2').some((c) => c.body.sagaId === id) ? true : undefined));
    const sagas = t.app.get(SagaRepository);
    const find = jest.spyOn(sagas, 'find');
    const kept = await sagas.findOutstanding(id, () => true);
    expect(find).not.toHaveBeenCalled(); // the copy this process wrote, not a read
    find.mockRestore();
    const stored = await sagas.find(id);
    // Timestamps differ only in format (Date or text, ms or µs): compare them as instants.
    const normal = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value), (_k, v) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? Math.floor(Date.parse(v)) : v));
    expect(kept).not.toBe(stored);
    expect(normal(kept)).toEqual(normal(stored));
    expect(stored).toMatchObject({ results: { k1: expect.anything() } });
    expect(stored!.steps[1]).toMatchObject({ awaiting: 'action', attempts: 1 });
  });

  it('should delete published outbox rows with the saga writes that follow, not in statements of their own', async () => {
    const api = httpClient(t.baseUrl);
    const url = (step: string) => ({ type: 'http', url: `${p.url}/${step}` });
    await api.post('/v1/definitions', { name: 'tidy', steps: [{ name: 't1', action: url('t1') }, { name: 't2', action: url('t2') }, { name: 't3', action: url('t3') }] });
    const pool = (t.app.get(DataSource).driver as unknown as { master: { query: (config: { name?: string; values?: unknown[] }) => Promise<unknown> } }).master;
    const query = jest.spyOn(pool, 'query');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const saga = (await api.post('/v1/sagas?waitMs=10000', { definition: 'tidy' })).body;
      expect(saga.status).toBe('COMPLETED');
      ids.push(saga.id);
    }
    const calls = query.mock.calls.map(([config]) => config);
    query.mockRestore();
    // Each saga wrote 1 outbox row (its start; t2 and t3 are carried on by t1's job, with no row). The
    // writes after each carry its delete; only a row no write came for within 100 ms is deleted on its own.
    const deleted = (names: string[], param: number) =>
      calls.filter((c) => names.includes(c.name ?? '')).reduce((n, c) => n + (c.values?.[param] as string[]).length, 0);
    const carried = deleted(['saga_insert', 'saga_update'], 1);
    const alone = deleted(['outbox_delete'], 0);
    expect(carried + alone).toBeGreaterThanOrEqual(5);
    expect(carried + alone).toBeLessThan(5 * 3);
    expect(carried).toBeGreaterThan(alone);
    const client = new Client({ connectionString: t.database.url });
    await client.connect();
    try {
      const left = await client.query('SELECT count(*)::int AS n FROM saga_outbox WHERE saga_id = ANY($1::uuid[])', [ids]);
      expect(left.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('should update the saga row in place (HOT) while a saga moves from step to step', async () => {
    // A database of its own: the sagas other tests here leave waiting are updated by the reconciler meanwhile.
    const own = await startTestApp();
    const api = httpClient(own.baseUrl);
    const url = (step: string) => ({ type: 'http', url: `${p.url}/${step}` });
    await api.post('/v1/definitions', { name: 'hot', steps: [{ name: 'h1', action: url('h1') }, { name: 'h2', action: url('h2') }, { name: 'h3', action: url('h3') }] });
    const client = new Client({ connectionString: own.database.url });
    await client.connect();
    try {
      // Statistics reach pg_stat_user_tables within about a second of each backend's transactions.
      const stats = async () => (await client.query(`SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'saga'`)).rows[0];
      await new Promise((r) => setTimeout(r, 1500));
      const before = await stats();
      for (let i = 0; i < 5; i++) expect((await api.post('/v1/sagas?waitMs=10000', { definition: 'hot' })).body.status).toBe('COMPLETED');
      // Each saga: three step results; the first two keep it RUNNING, the last completes it.
      const after = await waitFor('the update statistics', async () => {
        const s = await stats();
        return s.upd - before.upd >= 15 ? s : undefined;
      });
      const updates = after.upd - before.upd;
      const hot = after.hot - before.hot;
      // Two in three can be HOT; a page short of room now and then makes one not (before: none were).
      expect(hot).toBeGreaterThanOrEqual(Math.floor(updates / 2));
    } finally {
      await client.end();
      await own.close();
    }
  });

  it('should arm attempt deadlines of concurrent forwards in shared statements, keeping the first deadline', async () => {
    const api = httpClient(t.baseUrl);
    p.on('/d1', () => 'hang');
    await api.post('/v1/definitions', { name: 'deadlines', steps: [{ name: 'd1', action: { type: 'http', url: `${p.url}/d1` }, timeoutMs: 60_000 }] });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await api.post('/v1/sagas', { definition: 'deadlines' })).body.id);
    await waitFor('every d1 call', async () => (p.callsTo('/d1').filter((c) => ids.includes(c.body.sagaId)).length === 6 ? true : undefined));

    const attempts = t.app.get(OutstandingAttempts);
    const pool = (t.app.get(DataSource).driver as unknown as { master: { query: (config: { name?: string }) => Promise<unknown> } }).master;
    const query = jest.spyOn(pool, 'query');
    const address = (sagaId: string, attempt = 1) => ({ sagaId, run: 1, step: 0, phase: 'action' as const, attempt });
    const first = new Date(Date.now() + 30_000);
    const armed = await Promise.all([...ids.map((id) => attempts.armDeadline(address(id), first)), attempts.armDeadline(address(ids[0], 2), first)]);
    const statements = query.mock.calls.filter(([config]) => config.name === 'saga_arm_deadlines').length;
    query.mockRestore();

    expect(armed.slice(0, 6).map((d) => d?.getTime())).toEqual(ids.map(() => first.getTime()));
    expect(armed[6]).toBeNull(); // attempt 2 is not the outstanding attempt
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(6);
    // A re-forward keeps the first deadline.
    expect((await attempts.armDeadline(address(ids[0]), new Date(Date.now() + 90_000)))?.getTime()).toBe(first.getTime());
    // A late forward moves it later, never earlier, and only while the attempt is outstanding.
    const later = new Date(first.getTime() + 20_000);
    expect((await attempts.armDeadline(address(ids[1]), later, true))?.getTime()).toBe(later.getTime());
    expect((await attempts.armDeadline(address(ids[1]), first, true))?.getTime()).toBe(later.getTime());
    expect(await attempts.armDeadline(address(ids[1], 2), later, true)).toBeNull();
  });

  it('should drop a step job published again after its attempt ran (completed jobs are not kept)', async () => {
    const api = httpClient(t.baseUrl);
    await api.post('/v1/definitions', { name: 'again', steps: [{ name: 'a1', action: { type: 'http', url: `${p.url}/a1` } }, { name: 'a2', action: { type: 'http', url: `${p.url}/a2` } }] });
    const saga = (await api.post('/v1/sagas?waitMs=10000', { definition: 'again' })).body;
    expect(saga.status).toBe('COMPLETED');
    const calls = () => p.callsTo('/a1').filter((c) => c.body.sagaId === saga.id).length;
    expect(calls()).toBe(1);
    // The relay or the reconciler may publish a job again late; its job id is free again by then.
    const job = stepJob(saga.id, 1, { type: 'dispatch', step: 0, phase: 'action', attempt: 1, notBefore: null });
    await t.app.get(JobPublisher).publish([job]);
    const queue = t.app.get(JobPublisher).queue(STEPS_QUEUE);
    await waitFor('the job to run', async () => ((await queue.getJobState(job.jobId)) === 'unknown' ? true : undefined));
    expect(calls()).toBe(1);
  });
});
