import { Client } from 'pg';
import { ExecutionsService } from '../../src/executions/executions.service.js';
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

    const executions = t.app.get(ExecutionsService);
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
});
