import { Client } from 'pg';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi, type SagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** SPEC §10 (callback and signal steps) and §11 (data mapping), black-box over HTTP. */
describe('Callback and signal steps, data mapping (SPEC §10, §11)', () => {
  let t: TestApp;
  let api: HttpClient;
  let anonymous: HttpClient;
  let p: Participant;
  let register: SagaApi['register'];
  let settled: SagaApi['settled'];
  let events: SagaApi['events'];

  beforeAll(async () => {
    t = await startTestApp({ RECONCILE_INTERVAL_MS: '500', SAGA_SECRET_PAY_TOKEN: 's3cret-value' });
    api = httpClient(t.baseUrl);
    anonymous = httpClient(t.baseUrl, null);
    ({ register, settled, events } = sagaApi(api));
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  const retry = { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 };
  const step = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    action: { type: 'http', url: `${p.url}/${name}` },
    compensation: { type: 'http', url: `${p.url}/${name}/undo` },
    retry,
    timeoutMs: 2000,
    ...extra,
  });
  const callbackStep = (name: string, timeoutMs = 5000) => step(name, { action: { type: 'http', url: `${p.url}/${name}`, completion: 'callback' }, timeoutMs });
  const signalStep = (name: string, signal: string, timeoutMs = 5000) => ({ name, action: { type: 'signal', signal }, timeoutMs });
  const start = async (definition: string, input: unknown = { order: 1 }) => {
    const res = await api.post('/v1/sagas', { definition, input });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const get = async (id: string) => (await api.get(`/v1/sagas/${id}`)).body;
  const stepOf = (saga: { steps: Array<Record<string, any>> }, name: string) => saga.steps.find((s) => s.name === name)!;
  /** The token the participant got for a saga's call to `path`: from the envelope, the same as the header. */
  const tokenOf = async (id: string, path: string) => {
    const call = await waitFor(`the call to ${path}`, async () => p.calls.find((c) => c.path === path && c.body?.sagaId === id));
    expect(call.headers['x-callback-token']).toBe(call.body.callbackToken);
    return call.body.callbackToken as string;
  };
  const waitingFor = (id: string, name: string) =>
    waitFor(`${name} to wait`, async () => {
      const s = stepOf(await get(id), name);
      return s.waitingFor ? s : undefined;
    });

  describe('callback steps', () => {
    it('should complete a saga whose payment step answers 202 and calls back success later', async () => {
      await register('cb-happy', [step('cb-reserve'), callbackStep('cb-pay'), step('cb-ship')]);
      p.on('/cb-pay', () => ({ status: 202, body: { accepted: true } }));
      const id = await start('cb-happy');
      const token = await tokenOf(id, '/cb-pay');
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const waiting = await waitingFor(id, 'cb-pay');
      expect(waiting).toMatchObject({ status: 'RUNNING', waitingFor: { type: 'callback' } });
      expect(p.callsTo('/cb-ship')).toHaveLength(0);

      const res = await anonymous.post(`/v1/callbacks/${token}`, { status: 'succeeded', output: { paymentId: 'pay-1', amount: 12.5 } });
      expect(res.status).toBe(202);
      const saga = await settled(id);
      expect(saga.status).toBe('COMPLETED');
      expect(stepOf(saga, 'cb-pay')).toMatchObject({ status: 'SUCCEEDED', output: { paymentId: 'pay-1', amount: 12.5 }, waitingFor: null });
      // The step after it sees the callback's output, not the acknowledgement's body.
      expect(p.callsTo('/cb-ship').find((c) => c.body.sagaId === id)!.body.results['cb-pay']).toEqual({ paymentId: 'pay-1', amount: 12.5 });

      // The same callback again: 200 with the same result; another one: 409.
      const again = await anonymous.post(`/v1/callbacks/${token}`, { status: 'succeeded', output: { amount: 12.5, paymentId: 'pay-1' } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(res.body);
      const other = await anonymous.post(`/v1/callbacks/${token}`, { status: 'failed', error: 'changed my mind' });
      expect(other.status).toBe(409);
      expect(other.body.code).toBe('CALLBACK_NOT_OUTSTANDING');
      // The token is stored only as its hash.
      const db = new Client({ connectionString: t.database.url });
      await db.connect();
      try {
        const { rows } = await db.query(`SELECT * FROM saga_callback WHERE saga_id = $1`, [id]);
        expect(rows).toHaveLength(1);
        expect(JSON.stringify(rows)).not.toContain(token);
        expect(rows[0]).toMatchObject({ state: 'applied', step: 1, phase: 'action', attempt: 1 });
      } finally {
        await db.end();
      }
    });

    it('should compensate when the callback reports failure', async () => {
      await register('cb-fail', [step('cbf-reserve'), callbackStep('cbf-pay')]);
      // An acknowledgement's body is not an output: plain text is fine.
      p.on('/cbf-pay', () => ({ status: 202, raw: 'Accepted', headers: { 'content-type': 'text/plain' } }));
      const id = await start('cb-fail');
      const token = await tokenOf(id, '/cbf-pay');
      await waitingFor(id, 'cbf-pay');
      expect((await anonymous.post(`/v1/callbacks/${token}`, { status: 'failed', error: { reason: 'card declined' }, retryable: false })).status).toBe(202);
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'cbf-pay' } });
      expect(stepOf(saga, 'cbf-pay')).toMatchObject({ status: 'FAILED', error: { reported: { reason: 'card declined' }, retryable: false }, compensation: null });
      expect(stepOf(saga, 'cbf-reserve').status).toBe('COMPENSATED');
      expect(p.callsTo('/cbf-pay/undo').filter((c) => c.body.sagaId === id)).toHaveLength(0);
    });

    it('should answer 409 to a callback after the timeout, and compensate the step as unknown', async () => {
      await register('cb-late', [step('cbl-reserve'), callbackStep('cbl-pay', 800)]);
      p.on('/cbl-pay', () => ({ status: 202 }));
      const id = await start('cb-late');
      const token = await tokenOf(id, '/cbl-pay');
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'cbl-pay' } });
      expect(stepOf(saga, 'cbl-pay')).toMatchObject({ status: 'COMPENSATED', error: { timedOut: true }, compensation: { status: 'SUCCEEDED' } });
      expect(stepOf(saga, 'cbl-pay').error.message).toContain('No callback within 800 ms');
      const late = await anonymous.post(`/v1/callbacks/${token}`, { status: 'succeeded', output: {} });
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ code: 'CALLBACK_NOT_OUTSTANDING', status: 409 });
      expect(late.headers.get('content-type')).toContain('application/problem+json');
      expect((await get(id)).status).toBe('COMPENSATED');
    });

    it('should answer 404 to an unknown token and 400 to a malformed body, without an API key', async () => {
      const unknown = await anonymous.post(`/v1/callbacks/${'A'.repeat(43)}`, { status: 'succeeded' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('CALLBACK_NOT_FOUND');
      expect((await anonymous.post('/v1/callbacks/not-a-token', { status: 'succeeded' })).status).toBe(404);
      const bad = await anonymous.post(`/v1/callbacks/${'A'.repeat(43)}`, { status: 'done', extra: 1 });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['extra', 'status']);
      const mixed = await anonymous.post(`/v1/callbacks/${'A'.repeat(43)}`, { status: 'succeeded', error: 'x' });
      expect(mixed.status).toBe(400);
    });

    it('should limit callbacks per client address', async () => {
      const strict = await startTestApp({ CALLBACK_RATE_LIMIT_PER_MINUTE: '5' });
      try {
        const client = httpClient(strict.baseUrl, null);
        const statuses: number[] = [];
        // Each a different token, so only the address's budget is spent.
        for (let i = 0; i < 7; i++) statuses.push((await client.post(`/v1/callbacks/${String(i).repeat(43)}`, { status: 'succeeded' })).status);
        expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
      } finally {
        await strict.close();
      }
    });

    it('should limit callbacks per token', async () => {
      const token = 'B'.repeat(43);
      const statuses: number[] = [];
      for (let i = 0; i < 32; i++) statuses.push((await anonymous.post(`/v1/callbacks/${token}`, { status: 'succeeded' })).status);
      expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true);
      expect(statuses.slice(30)).toEqual([429, 429]);
      const limited = await anonymous.post(`/v1/callbacks/${token}`, { status: 'succeeded' });
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('signal steps', () => {
    const approvalSaga = (name: string, timeoutMs = 5000) => register(name, [step(`${name}-reserve`), signalStep(`${name}-approve`, 'manager-approval', timeoutMs), step(`${name}-ship`)]);

    it('should keep an approval signal sent before its step starts, and take it when it starts', async () => {
      await approvalSaga('sg-early');
      p.on('/sg-early-reserve', () => ({ status: 200, body: { reserved: true }, delayMs: 500 }));
      const id = await start('sg-early');
      const sent = await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'succeeded', output: { approvedBy: 'dana' } });
      expect(sent.status).toBe(202);
      expect(sent.body).toEqual({ sagaId: id, signal: 'manager-approval', step: 'sg-early-approve' });
      expect(stepOf(await get(id), 'sg-early-approve').status).toBe('PENDING');
      const saga = await settled(id);
      expect(saga.status).toBe('COMPLETED');
      expect(stepOf(saga, 'sg-early-approve')).toMatchObject({ status: 'SUCCEEDED', output: { approvedBy: 'dana' } });
      // The same signal again: 200. Another body: 409 SIGNAL_ALREADY_RECEIVED. A terminal saga: 409 SIGNAL_NOT_EXPECTED.
      expect((await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'succeeded', output: { approvedBy: 'dana' } })).status).toBe(200);
      const different = await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'failed' });
      expect([different.status, different.body.code]).toEqual([409, 'SIGNAL_ALREADY_RECEIVED']);
      const other = await api.post(`/v1/sagas/${id}/signals/unknown-signal`, { status: 'succeeded' });
      expect([other.status, other.body.code]).toEqual([409, 'SIGNAL_NOT_EXPECTED']);
      const missing = await api.post(`/v1/sagas/00000000-0000-4000-8000-000000000000/signals/manager-approval`, { status: 'succeeded' });
      expect(missing.status).toBe(404);
    });

    it('should apply a signal to a waiting step at once, show what it waits for, and compensate on a rejection', async () => {
      await approvalSaga('sg-reject');
      const id = await start('sg-reject');
      const waiting = await waitingFor(id, 'sg-reject-approve');
      expect(waiting).toMatchObject({ status: 'RUNNING', waitingFor: { type: 'signal', signal: 'manager-approval' } });
      const sent = await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'failed', error: { reason: 'over budget' } });
      expect(sent.status).toBe(202);
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'sg-reject-approve' } });
      expect(stepOf(saga, 'sg-reject-approve')).toMatchObject({ status: 'FAILED', attempts: 1, error: { reported: { reason: 'over budget' }, retryable: false } });
      expect(stepOf(saga, 'sg-reject-reserve').status).toBe('COMPENSATED');
      expect(p.callsTo('/sg-reject-ship')).toHaveLength(0);
      const after = await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'succeeded' });
      expect(after.body.code).toBe('SIGNAL_ALREADY_RECEIVED');
    });

    it('should fail the step for good when no signal comes before its timeout', async () => {
      await approvalSaga('sg-timeout', 700);
      const id = await start('sg-timeout');
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'sg-timeout-approve' } });
      expect(stepOf(saga, 'sg-timeout-approve')).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'SIGNAL_TIMEOUT' } });
      const started = Date.parse(stepOf(saga, 'sg-timeout-approve').startedAt);
      const failed = Date.parse(stepOf(saga, 'sg-timeout-approve').finishedAt);
      expect(failed - started).toBeGreaterThanOrEqual(690);
      expect(failed - started).toBeLessThan(3000);
      const late = await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'succeeded' });
      expect(late.body.code).toBe('SIGNAL_NOT_EXPECTED');
    });

    it('should compensate at once when the saga is cancelled while a step waits', async () => {
      await approvalSaga('sg-cancel', 60_000);
      const id = await start('sg-cancel');
      await waitingFor(id, 'sg-cancel-approve');
      const cancelled = await api.post(`/v1/sagas/${id}/cancel`, { reason: 'customer left' });
      expect(cancelled.status).toBe(202);
      const saga = await waitFor('compensated', async () => {
        const s = await get(id);
        return s.status === 'COMPENSATED' ? s : undefined;
      }, 3000);
      expect(saga.error.code).toBe('CANCELLED');
      expect(stepOf(saga, 'sg-cancel-approve')).toMatchObject({ status: 'FAILED', waitingFor: null });
      expect(stepOf(saga, 'sg-cancel-reserve').status).toBe('COMPENSATED');
    });

    it('should compensate at once when the saga deadline passes while a step waits', async () => {
      await register('sg-deadline', [step('sgd-reserve'), signalStep('sgd-approve', 'go', 600_000)], { timeoutMs: 1500 });
      const id = await start('sg-deadline');
      await waitingFor(id, 'sgd-approve');
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'SAGA_TIMEOUT' } });
      expect(stepOf(saga, 'sgd-approve')).toMatchObject({ status: 'FAILED', waitingFor: null });
      expect(stepOf(saga, 'sgd-reserve').status).toBe('COMPENSATED');
      // At the deadline (and the reconciler's interval), not at the step's 10-minute timeout.
      expect(Date.parse(saga.finishedAt) - Date.parse(saga.createdAt)).toBeLessThan(5000);
    });

    it('should compensate an acknowledged callback step at once on cancel', async () => {
      await register('cb-cancel', [callbackStep('cbc-pay', 60_000)]);
      p.on('/cbc-pay', () => ({ status: 202 }));
      const id = await start('cb-cancel');
      const token = await tokenOf(id, '/cbc-pay');
      await waitFor('acknowledged', async () => (await get(id)).steps[0].waitingFor !== null || undefined);
      await waitFor('marked waiting', async () => {
        const db = new Client({ connectionString: t.database.url });
        await db.connect();
        try {
          return (await db.query(`SELECT waiting FROM saga_step WHERE saga_id = $1`, [id])).rows[0].waiting === 'callback' || undefined;
        } finally {
          await db.end();
        }
      });
      expect((await api.post(`/v1/sagas/${id}/cancel`, {})).status).toBe(202);
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'CANCELLED' } });
      expect(stepOf(saga, 'cbc-pay')).toMatchObject({ status: 'COMPENSATED', error: { timedOut: true } });
      const late = await anonymous.post(`/v1/callbacks/${token}`, { status: 'succeeded' });
      expect(late.body.code).toBe('CALLBACK_NOT_OUTSTANDING');
    });

    it('should need the sagas:signal scope', async () => {
      const reader = (await api.post('/v1/keys', { name: 'signal-reader', scopes: ['sagas:read', 'sagas:write'] })).body.key;
      const res = await httpClient(t.baseUrl, reader).post(`/v1/sagas/00000000-0000-4000-8000-000000000000/signals/x`, { status: 'succeeded' });
      expect([res.status, res.body.requiredScope]).toEqual([403, 'sagas:signal']);
    });
  });

  describe('data mapping', () => {
    it('should call an existing API with its own JSON shape, a mapped URL segment percent-encoded, and record the request', async () => {
      await register('map-call', [
        step('mc-reserve'),
        {
          name: 'mc-charge',
          action: {
            type: 'http',
            method: 'PUT',
            url: `${p.url}/accounts/\${input.customer.id}/charges?ref=\${saga.correlationId}`,
            headers: { 'x-reservation': '${results.mc-reserve.reservationId}' },
            body: { amount: '${input.total}', currency: 'EUR', lines: '${input.lines}', memo: 'order ${input.orderId} (${results.mc-reserve.reservationId})', first: '${input.lines[0].sku}' },
          },
          compensation: { type: 'http', url: `${p.url}/refunds/\${results.mc-charge.chargeId}` },
          retry,
        },
        step('mc-fail'),
      ]);
      p.on('/mc-reserve', () => ({ status: 200, body: { reservationId: 'r-42' } }));
      p.on('/mc-fail', () => ({ status: 422, body: { no: true } }));
      p.on('/accounts/ACME%2F%C3%A9%20ltd/charges?ref=order%2042%2F7', () => ({ status: 200, body: { chargeId: 'ch/1' } }));
      const input = { customer: { id: 'ACME/é ltd' }, total: 99.95, lines: [{ sku: 'a-1', qty: 2 }], orderId: 42 };
      const res = await api.post('/v1/sagas', { definition: 'map-call', input, correlationId: 'order 42/7' });
      const saga = await settled(res.body.id);
      expect(saga.status).toBe('COMPENSATED');
      const call = p.calls.find((c) => c.path.startsWith('/accounts/') && c.headers['x-saga-id'] === saga.id)!;
      expect(call.path).toBe('/accounts/ACME%2F%C3%A9%20ltd/charges?ref=order%2042%2F7');
      expect(call.method).toBe('PUT');
      // Its own shape, not the envelope; the SPEC §3 headers still come.
      expect(call.body).toEqual({ amount: 99.95, currency: 'EUR', lines: [{ sku: 'a-1', qty: 2 }], memo: 'order 42 (r-42)', first: 'a-1' });
      expect(call.headers).toMatchObject({ 'x-reservation': 'r-42', 'idempotency-key': `${saga.id}:1:mc-charge:action`, 'x-saga-id': saga.id });
      expect(stepOf(saga, 'mc-charge').output).toEqual({ chargeId: 'ch/1' });
      // The compensation reads its own step's output.
      expect(p.calls.some((c) => c.path === '/refunds/ch%2F1' && c.body.sagaId === saga.id)).toBe(true);
      const history = await events(saga.id);
      expect(history.find((e) => e.type === 'StepStarted' && e.step === 'mc-charge')!.data.request).toEqual({
        method: 'PUT',
        url: call.path.startsWith('/') ? `${p.url}${call.path}` : call.path,
        headers: { 'x-reservation': 'r-42' },
        body: call.body,
      });
      expect(history.find((e) => e.type === 'CompensationStarted' && e.step === 'mc-charge')!.data.request.url).toBe(`${p.url}/refunds/ch%2F1`);
    });

    it('should put secrets into the template only, never into a value from the saga, and never into the history', async () => {
      await register('map-secret', [
        { name: 'ms-call', action: { type: 'http', url: `${p.url}/ms-call`, headers: { authorization: 'Bearer ${secret:PAY_TOKEN}', 'x-note': 'note ${input.note}' } } },
      ]);
      const id = await start('map-secret', { note: '${secret:PAY_TOKEN}' });
      expect((await settled(id)).status).toBe('COMPLETED');
      const call = p.callsTo('/ms-call').find((c) => c.headers['x-saga-id'] === id)!;
      expect(call.headers.authorization).toBe('Bearer s3cret-value');
      expect(call.headers['x-note']).toBe('note ${secret:PAY_TOKEN}');
      // The mapped call still gets the envelope (no body was given).
      expect(call.body).toMatchObject({ sagaId: id, step: 'ms-call', input: { note: '${secret:PAY_TOKEN}' } });
      const history = JSON.stringify(await events(id));
      expect(history).not.toContain('s3cret-value');
      expect((await events(id)).find((e) => e.type === 'StepStarted')!.data.request.headers).toEqual({ authorization: 'Bearer ${secret:PAY_TOKEN}', 'x-note': 'note ${secret:PAY_TOKEN}' });
    });

    it('should judge a URL whose host comes from the saga\'s data by the participant policy at the call', async () => {
      // The host is a placeholder: registration cannot resolve it, the call's own check does.
      await register('map-host', [{ name: 'mh-call', action: { type: 'http', url: `http://\${input.host}:${new URL(p.url).port}/steal` }, retry: { maxAttempts: 3 } }]);
      const refused = await settled(await start('map-host', { host: '169.254.169.254' }));
      expect(refused.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1, error: { refusedByPolicy: true, retryable: false } });
      const allowed = await settled(await start('map-host', { host: '127.0.0.1' }));
      expect(allowed.status).toBe('COMPLETED');
      expect(p.callsTo('/steal').some((c) => c.headers['x-saga-id'] === allowed.id)).toBe(true);
    });

    it('should fail the step for good with MAPPING_FAILED, calling nothing, and compensate', async () => {
      await register('map-fail', [step('mf-reserve'), step('mf-pay', { action: { type: 'http', url: `${p.url}/mf-pay/\${input.customer.id}` } })]);
      const id = await start('map-fail', { customer: {} });
      const saga = await settled(id);
      expect(saga).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'mf-pay' } });
      expect(stepOf(saga, 'mf-pay')).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'MAPPING_FAILED', retryable: false } });
      expect(stepOf(saga, 'mf-pay').error.message).toContain('${input.customer.id}: input.customer has no "id"');
      expect(p.calls.filter((c) => c.path.startsWith('/mf-pay'))).toHaveLength(0);
      expect(stepOf(saga, 'mf-reserve').status).toBe('COMPENSATED');
    });

    it('should settle a saga whose first step cannot be mapped at once', async () => {
      await register('map-first', [step('mff-pay', { action: { type: 'http', url: `${p.url}/mff/\${input.id}` } })]);
      const res = await api.post('/v1/sagas', { definition: 'map-first', input: {} });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'mff-pay' } });
      expect((await get(res.body.id)).steps[0]).toMatchObject({ status: 'FAILED', error: { code: 'MAPPING_FAILED' } });
      // Counted as settled like any other saga.
      const metrics = String((await anonymous.get('/metrics')).body);
      expect(metrics).toMatch(/saga_settled_total\{definition="map-first",status="COMPENSATED"\} 1\b/);
    });

    it('should refuse placeholders naming a later step, a sibling branch or the step itself, bad syntax, and secrets outside headers, naming each field', async () => {
      const res = await api.post('/v1/definitions', {
        name: 'map-bad',
        steps: [
          { name: 'a', action: { type: 'http', url: `${p.url}/a/\${results.b.id}`, body: { self: '${results.a.x}', bad: '${input..x}', secret: '${secret:TOKEN}' } } },
          { name: 'g', parallel: [[{ name: 'b', action: { type: 'http', url: `${p.url}/b`, headers: { 'x-c': '${results.c.id}' } } }], [{ name: 'c', action: { type: 'http', url: `${p.url}/c/\${unknown.x}` } }]] },
          { name: 'd', action: { type: 'http', url: `${p.url}/d` }, compensation: { type: 'http', url: `${p.url}/d/\${results.d.id}` } },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        'steps[0].action.body.bad',
        'steps[0].action.body.secret',
        'steps[0].action.body.self',
        'steps[0].action.url',
        'steps[1].parallel[0][0].action.headers.x-c',
        'steps[1].parallel[1][0].action.url',
      ]);
    });
  });
});
