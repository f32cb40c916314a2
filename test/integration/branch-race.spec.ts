import { Client } from 'pg';
import { SagaTransitions } from '../../src/executions/saga-transitions.js';
import { SagaRepository } from '../../src/executions/saga.repository.js';
import { httpClient } from '../support/http-client.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * SPEC §8 under concurrency: the branches of a group finish at the same
 * moment, their outcomes applied by two instances at once, each decided on
 * the same version of the saga. Every outcome must land exactly once (the
 * loser of the version guard re-reads and re-decides instead of being lost),
 * the group's join must dispatch the next step exactly once, and the history
 * must stay gapless.
 */
describe('Concurrent outcomes of a group\'s branches on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let db: Client;

  beforeAll(async () => {
    // API role: no worker runs the attempts; the test reports their outcomes itself.
    a = await startTestApp({ ROLE: 'api' });
    b = await startTestApp({ ROLE: 'api' }, a);
    db = new Client({ connectionString: a.database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await b.close();
    await a.close();
  });

  it('should apply every branch outcome once, join once, and keep seq gapless, saga after saga', async () => {
    const api = httpClient(a.baseUrl);
    const http = (path: string) => ({ type: 'http', url: `http://127.0.0.1:9/${path}` });
    const step = (name: string) => ({ name, action: http(name), compensation: http(`${name}-undo`), timeoutMs: 60_000 });
    const created = await api.post('/v1/definitions', {
      name: 'racing',
      steps: [{ name: 'g', parallel: [[step('left')], [step('middle')], [step('right')]] }, step('after')],
    });
    expect(created.status).toBe(201);

    const SAGAS = 25;
    const ids: string[] = [];
    for (let i = 0; i < SAGAS; i++) ids.push((await api.post('/v1/sagas', { definition: 'racing', input: { i } })).body.id);

    const onA = a.app.get(SagaTransitions);
    const onB = b.app.get(SagaTransitions);
    const reposA = a.app.get(SagaRepository);
    const reposB = b.app.get(SagaRepository);
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        // Both instances decide on the very same version: one of their writes must lose the guard.
        const [seenByA, seenByB] = await Promise.all([reposA.find(id), reposB.find(id)]);
        expect(seenByA!.version).toBe(seenByB!.version);
        const ok = (step: number, output: unknown) => ({ type: 'attempt-succeeded', step, phase: 'action', attempt: 1, output }) as const;
        return Promise.all([
          onA.apply(id, ok(0, { by: 'a' }), 1, seenByA!),
          onB.apply(id, ok(1, { by: 'b' }), 1, seenByB!),
          onB.apply(id, ok(2, { by: 'b' }), 1, seenByB!),
        ]);
      }),
    );
    expect(outcomes.flat().map((o) => o.outcome)).toEqual(Array(SAGAS * 3).fill('applied'));

    for (const id of ids) {
      const saga = (await api.get(`/v1/sagas/${id}`)).body;
      expect(saga.status).toBe('RUNNING');
      expect(saga.results).toEqual({ left: { by: 'a' }, middle: { by: 'b' }, right: { by: 'b' } });
      expect(saga.steps.map((s: { name: string; status: string; group: string | null; branch: number | null }) => [s.name, s.status, s.group, s.branch])).toEqual([
        ['left', 'SUCCEEDED', 'g', 0],
        ['middle', 'SUCCEEDED', 'g', 1],
        ['right', 'SUCCEEDED', 'g', 2],
        ['after', 'RUNNING', null, null],
      ]);
      const { rows } = await db.query('SELECT seq, type, step FROM saga_event WHERE saga_id = $1 ORDER BY seq', [id]);
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_r, i) => i + 1));
      expect(rows.filter((r) => r.type === 'StepSucceeded').map((r) => r.step).sort()).toEqual(['left', 'middle', 'right']);
      // The join dispatched the next step exactly once.
      expect(rows.filter((r) => r.type === 'StepStarted' && r.step === 'after')).toHaveLength(1);
    }
  });
});
