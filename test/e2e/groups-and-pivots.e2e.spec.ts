import { Client } from 'pg';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi, type SagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** SPEC §8 (parallel groups) and §9 (pivot and retriable steps), black-box over HTTP with a recording participant. */
describe('Parallel groups, pivot and retriable steps (SPEC §8, §9)', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;
  let register: SagaApi['register'];
  let settled: SagaApi['settled'];
  let events: SagaApi['events'];

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    ({ register, settled, events } = sagaApi(api));
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  const retry = { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 };
  const step = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    action: { type: 'http', url: `${p.url}/${name}` },
    compensation: { type: 'http', url: `${p.url}/${name}/undo` },
    retry,
    timeoutMs: 2000,
    ...extra,
  });
  const forward = (name: string, kind: 'pivot' | 'retriable', extra: Record<string, unknown> = {}) => ({
    name,
    kind,
    action: { type: 'http', url: `${p.url}/${name}` },
    retry,
    timeoutMs: 2000,
    ...extra,
  });
  const group = (name: string, ...branches: unknown[][]) => ({ name, parallel: branches });
  const start = async (definition: string) => (await api.post('/v1/sagas', { definition, input: { order: 1 } })).body.id as string;
  const pathsOf = (id: string) => p.calls.filter((c) => c.body?.sagaId === id).map((c) => c.path);
  const callOf = (id: string, path: string) => p.calls.find((c) => c.body?.sagaId === id && c.path === path)!;

  it('should run the branches at once and join them: branch outputs in results, group, branch and kind in the view and events', async () => {
    await register('g-happy', [step('gh-before'), group('gh-group', [step('gh-a1'), step('gh-a2')], [step('gh-b1')]), step('gh-after')]);
    p.on('/gh-a1', () => ({ status: 200, body: { a1: true }, delayMs: 200 }));
    p.on('/gh-b1', () => ({ status: 200, body: { b1: true }, delayMs: 200 }));
    const id = await start('g-happy');
    const saga = await settled(id);
    expect(saga.status).toBe('COMPLETED');
    expect(saga.results).toEqual({
      'gh-before': { ok: true, path: '/gh-before' },
      'gh-a1': { a1: true },
      'gh-a2': { ok: true, path: '/gh-a2' },
      'gh-b1': { b1: true },
      'gh-after': { ok: true, path: '/gh-after' },
    });
    // The branches ran at once: b1 was called before a1 answered.
    expect(callOf(id, '/gh-b1').at).toBeLessThan(callOf(id, '/gh-a1').at + 150);
    // A branch step sees the outputs before its group and of its own branch only; the step after sees them all.
    expect(Object.keys(callOf(id, '/gh-a2').body.results).sort()).toEqual(['gh-a1', 'gh-before']);
    expect(Object.keys(callOf(id, '/gh-b1').body.results)).toEqual(['gh-before']);
    expect(Object.keys(callOf(id, '/gh-after').body.results).sort()).toEqual(['gh-a1', 'gh-a2', 'gh-b1', 'gh-before']);
    expect(saga.steps.map((s: Record<string, unknown>) => [s.name, s.kind, s.group, s.branch])).toEqual([
      ['gh-before', 'compensatable', null, null],
      ['gh-a1', 'compensatable', 'gh-group', 0],
      ['gh-a2', 'compensatable', 'gh-group', 0],
      ['gh-b1', 'compensatable', 'gh-group', 1],
      ['gh-after', 'compensatable', null, null],
    ]);
    const history = await events(id);
    expect(history.find((e) => e.type === 'StepSucceeded' && e.step === 'gh-b1')!.data).toEqual({ group: 'gh-group', branch: 1 });
    expect(history.find((e) => e.type === 'StepStarted' && e.step === 'gh-after')!.data).toBeNull();
    expect(history.map((e) => e.seq)).toEqual(history.map((_e, i) => i + 1));
  });

  it('should carry a group\'s branches on in the worker that ran the step before, all at once, without a job of their own', async () => {
    await register('g-carried', [step('gk-a'), group('gk-group', [step('gk-b1')], [step('gk-b2')], [step('gk-b3')]), step('gk-z')]);
    for (const b of ['/gk-b1', '/gk-b2', '/gk-b3']) p.on(b, () => ({ status: 200, body: {}, delayMs: 150 }));
    const id = await start('g-carried');
    expect((await settled(id)).status).toBe('COMPLETED');
    const db = new Client({ connectionString: t.database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT idx, carrier FROM saga_step WHERE saga_id = $1 ORDER BY idx', [id]);
      // The first step has a job of its own; the branches and the step after them were carried on by that job.
      expect(rows[0].carrier).toBeNull();
      const firstJob = `${id}.1.0.action.1`;
      expect(rows.slice(1).map((r) => r.carrier)).toEqual([firstJob, firstJob, firstJob, firstJob]);
    } finally {
      await db.end();
    }
    // At once: every branch was called before the first of them answered.
    const calls = ['/gk-b1', '/gk-b2', '/gk-b3'].map((path) => callOf(id, path).at);
    expect(Math.max(...calls) - Math.min(...calls)).toBeLessThan(120);
  });

  it('should let the siblings of a branch that failed for good settle, then compensate each branch in reverse, then the steps before', async () => {
    await register('g-fail', [step('gf-before'), group('gf-group', [step('gf-a1'), step('gf-a2')], [step('gf-b1')]), step('gf-after')]);
    p.on('/gf-a2', () => ({ status: 200, body: { slow: true }, delayMs: 400 }));
    p.on('/gf-b1', () => ({ status: 400, body: { declined: true }, delayMs: 100 }));
    const id = await start('g-fail');
    const saga = await settled(id);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.error).toMatchObject({ code: 'STEP_FAILED', step: 'gf-b1' });
    const paths = pathsOf(id);
    expect(paths.filter((path) => path.endsWith('/undo'))).toEqual(['/gf-a2/undo', '/gf-a1/undo', '/gf-before/undo']);
    expect(paths).not.toContain('/gf-after');
    // a2 was in flight when b1 failed: it finished, and only then was it undone.
    expect(callOf(id, '/gf-a2/undo').at).toBeGreaterThanOrEqual(callOf(id, '/gf-a2').at + 380);
    expect(saga.steps.map((s: Record<string, unknown>) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED', 'PENDING']);
  });

  it('should end FAILED when a compensation in a branch fails for good while the other branch is undone, and replay it', async () => {
    await register('g-undo-fails', [step('gu-before'), group('gu-group', [step('gu-x')], [step('gu-y')]), step('gu-z')]);
    p.on('/gu-z', () => ({ status: 400 }));
    let refundDown = true;
    p.on('/gu-x/undo', () => (refundDown ? { status: 400, body: { down: true } } : { status: 200, body: { undone: true } }));
    const id = await start('g-undo-fails');
    const failed = await settled(id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'COMPENSATION_FAILED', step: 'gu-x', cause: { code: 'STEP_FAILED', step: 'gu-z' } });
    // The other branch was undone; the step before the group waits.
    expect(failed.steps.map((s: Record<string, unknown>) => [s.name, s.status])).toEqual([
      ['gu-before', 'SUCCEEDED'],
      ['gu-x', 'COMPENSATION_FAILED'],
      ['gu-y', 'COMPENSATED'],
      ['gu-z', 'FAILED'],
    ]);
    expect(pathsOf(id)).not.toContain('/gu-before/undo');
    refundDown = false;
    expect((await api.post(`/v1/sagas/${id}/replay`)).status).toBe(202);
    const done = await settled(id);
    expect(done.status).toBe('COMPENSATED');
    expect(pathsOf(id).filter((path) => path.endsWith('/undo')).slice(-2)).toEqual(['/gu-x/undo', '/gu-before/undo']);
  });

  it('should pause once nothing is in flight, and on replay retry the failed branch step while the other branch resumes', async () => {
    await register('g-pause', [group('gp-group', [step('gp-a1', { retry: { ...retry, maxAttempts: 1 } })], [step('gp-b1'), step('gp-b2')])], { onStepFailure: 'pause' });
    p.on('/gp-a1', (_c, nth) => (nth === 1 ? { status: 400 } : { status: 200, body: { fixed: true } }));
    p.on('/gp-b1', () => ({ status: 200, body: {}, delayMs: 300 }));
    const id = await start('g-pause');
    const paused = await settled(id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.error).toMatchObject({ code: 'STEP_FAILED', step: 'gp-a1' });
    // b1 was in flight and finished; b2 did not start.
    expect(paused.steps.map((s: Record<string, unknown>) => s.status)).toEqual(['FAILED', 'SUCCEEDED', 'PENDING']);
    expect((await api.post(`/v1/sagas/${id}/replay`)).status).toBe(202);
    const done = await settled(id);
    expect(done.status).toBe('COMPLETED');
    expect(pathsOf(id).sort()).toEqual(['/gp-a1', '/gp-a1', '/gp-b1', '/gp-b2']);
  });

  it('should on cancel during a group start nothing new, wait for the branches in flight, and compensate them and the steps before', async () => {
    await register('g-cancel', [step('gc-before'), group('gc-group', [step('gc-a1'), step('gc-a2')], [step('gc-b1')])]);
    p.on('/gc-a1', () => ({ status: 200, body: {}, delayMs: 400 }));
    p.on('/gc-b1', () => ({ status: 200, body: {}, delayMs: 400 }));
    const id = await start('g-cancel');
    await waitFor('both branches to be called', async () => (pathsOf(id).includes('/gc-a1') && pathsOf(id).includes('/gc-b1') ? true : undefined));
    const cancelled = await api.post(`/v1/sagas/${id}/cancel`, { reason: 'customer changed their mind' });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('COMPENSATING');
    const done = await settled(id);
    expect(done).toMatchObject({ status: 'COMPENSATED', error: { code: 'CANCELLED' } });
    const paths = pathsOf(id);
    expect(paths).not.toContain('/gc-a2');
    expect(paths.filter((path) => path.endsWith('/undo')).sort()).toEqual(['/gc-a1/undo', '/gc-b1/undo', '/gc-before/undo']);
    expect(paths.at(-1)).toBe('/gc-before/undo');
  });

  it('should refuse cancel with 409 PAST_PIVOT once the pivot has succeeded, and go on forward', async () => {
    await register('pv-past', [step('pp-reserve'), forward('pp-capture', 'pivot'), forward('pp-receipt', 'retriable')]);
    p.on('/pp-receipt', () => ({ status: 200, body: {}, delayMs: 400 }));
    const id = await start('pv-past');
    await waitFor('the receipt to be called', async () => (pathsOf(id).includes('/pp-receipt') ? true : undefined));
    const refused = await api.post(`/v1/sagas/${id}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('PAST_PIVOT');
    const done = await settled(id);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps.map((s: Record<string, unknown>) => s.kind)).toEqual(['compensatable', 'pivot', 'retriable']);
  });

  it('should pause with PIVOT_OUTCOME_UNKNOWN when the pivot\'s final attempt times out, and compensate nothing', async () => {
    await register('pv-unknown', [step('pu-reserve'), forward('pu-capture', 'pivot', { timeoutMs: 150, retry: { ...retry, maxAttempts: 1 } }), forward('pu-receipt', 'retriable')]);
    p.on('/pu-capture', () => 'hang');
    const id = await start('pv-unknown');
    const paused = await settled(id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.error).toMatchObject({ code: 'PIVOT_OUTCOME_UNKNOWN', step: 'pu-capture' });
    expect(pathsOf(id)).toEqual(['/pu-reserve', '/pu-capture']);
    // Cancel compensates the steps before it.
    expect((await api.post(`/v1/sagas/${id}/cancel`)).status).toBe(202);
    const done = await settled(id);
    expect(done).toMatchObject({ status: 'COMPENSATED', error: { code: 'CANCELLED' } });
    expect(pathsOf(id)).toEqual(['/pu-reserve', '/pu-capture', '/pu-reserve/undo']);
  });

  it('should pause with RETRIABLE_STEP_FAILED when a retriable step fails for good, never compensating, and replay it with a fresh budget', async () => {
    await register('pv-retriable', [step('pr-reserve'), forward('pr-capture', 'pivot'), forward('pr-ship', 'retriable')]);
    let shipping = 'refused';
    p.on('/pr-ship', () => (shipping === 'refused' ? { status: 422, body: { address: 'invalid' } } : { status: 200, body: { tracking: 't-1' } }));
    const id = await start('pv-retriable');
    const paused = await settled(id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.error).toMatchObject({ code: 'RETRIABLE_STEP_FAILED', step: 'pr-ship' });
    expect(pathsOf(id).filter((path) => path.endsWith('/undo'))).toEqual([]);
    expect((await api.post(`/v1/sagas/${id}/cancel`)).body.code).toBe('PAST_PIVOT');
    shipping = 'fixed';
    expect((await api.post(`/v1/sagas/${id}/replay`)).status).toBe(202);
    const done = await settled(id);
    expect(done.status).toBe('COMPLETED');
    expect(done.results['pr-ship']).toEqual({ tracking: 't-1' });
  });

  it('should retry a retriable step past its default budget (unlimited) until it succeeds', async () => {
    await register('pv-unlimited', [forward('pl-capture', 'pivot'), { name: 'pl-notify', kind: 'retriable', action: { type: 'http', url: `${p.url}/pl-notify` }, retry: { backoff: 'fixed', initialDelayMs: 5, maxDelayMs: 5 } }]);
    p.on('/pl-notify', (_c, nth) => (nth < 6 ? { status: 503 } : { status: 200, body: { sent: true } }));
    const done = await settled(await start('pv-unlimited'));
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1]).toMatchObject({ kind: 'retriable', attempts: 6 });
  });
});
