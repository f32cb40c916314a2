import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpClient, HttpClient } from '../support/http-client.js';
import { freePort } from '../support/server-process.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The README's quick start: the demo participant and the example definition, as shipped. */
describe('The README quick start', () => {
  let t: TestApp;
  let api: HttpClient;
  let demo: ChildProcess;
  let demoOutput = '';
  let port: number;

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    port = await freePort();
    demo = spawn('node', [path.join(ROOT, 'scripts/demo-participant.mjs')], { env: { ...process.env, DEMO_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (d) => (demoOutput += d));
    demo.stderr!.on('data', (d) => (demoOutput += d));
    await waitFor('the demo participant to listen', async () => (demoOutput.includes('listening on') ? true : undefined));
  });
  afterAll(async () => {
    demo.kill('SIGTERM');
    await t.close();
  });

  it('should complete the first saga and compensate the declined one', async () => {
    // The example as shipped, pointed at this run's port instead of 4000.
    const example = readFileSync(path.join(ROOT, 'docs/examples/order-fulfilment.json'), 'utf8').replaceAll('127.0.0.1:4000', `127.0.0.1:${port}`);
    expect((await api.post('/v1/definitions', example)).status).toBe(201);

    const ok = await api.post('/v1/sagas?waitMs=10000', { definition: 'order-fulfilment', input: { orderId: 42, amount: 30 } });
    expect(ok.status).toBe(202);
    expect(ok.body.status).toBe('COMPLETED');
    expect(Object.keys(ok.body.results).sort()).toEqual(['charge-payment', 'reserve-inventory', 'ship']);
    expect(ok.body.results['charge-payment']).toMatchObject({ chargeId: expect.stringMatching(/^c-/), amount: 30 });

    const declined = await api.post('/v1/sagas?waitMs=10000', { definition: 'order-fulfilment', input: { orderId: 43, amount: 5000 } });
    expect(declined.body).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED' } });
    const [reserve, charge, ship] = declined.body.steps;
    expect(charge).toMatchObject({ status: 'FAILED', attempts: 1, error: { status: 402, retryable: false, body: { error: 'card declined' } } });
    expect(reserve).toMatchObject({ status: 'COMPENSATED', compensation: { status: 'SUCCEEDED' } });
    expect(ship.status).toBe('PENDING');
    expect(demoOutput).toMatch(new RegExp(`/inventory/release .*saga ${declined.body.id}`));
  });

  it('should run the example with a group and a pivot: both branches, then ship, then the receipt; a declined card undoes the reservation', async () => {
    const example = readFileSync(path.join(ROOT, 'docs/examples/order-with-group.json'), 'utf8').replaceAll('127.0.0.1:4000', `127.0.0.1:${port}`);
    expect((await api.post('/v1/definitions', example)).status).toBe(201);
    const ok = await api.post('/v1/sagas?waitMs=10000', { definition: 'order-with-group', input: { orderId: 44, amount: 30 } });
    expect(ok.body.status).toBe('COMPLETED');
    expect(ok.body.steps.map((s: { name: string; kind: string; group: string | null }) => [s.name, s.kind, s.group])).toEqual([
      ['reserve-inventory', 'compensatable', 'prepare'],
      ['charge-payment', 'compensatable', 'prepare'],
      ['ship', 'pivot', null],
      ['receipt', 'retriable', null],
    ]);
    expect(ok.body.results.receipt.trackingId).toBe(ok.body.results.ship.trackingId);
    const declined = await api.post('/v1/sagas?waitMs=10000', { definition: 'order-with-group', input: { orderId: 45, amount: 5000 } });
    expect(declined.body).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'charge-payment' } });
    expect(declined.body.steps[0]).toMatchObject({ status: 'COMPENSATED' });
  });

  it('should run the worked example: the payment confirms by callback, the manager approves by signal, the receipt goes out in the mail API\'s own shape', async () => {
    const example = readFileSync(path.join(ROOT, 'docs/examples/order-with-approval.json'), 'utf8').replaceAll('127.0.0.1:4000', `127.0.0.1:${port}`);
    expect((await api.post('/v1/definitions', example)).status).toBe(201);
    const started = await api.post('/v1/sagas', { definition: 'order-with-approval', input: { orderId: 46, amount: 30, email: 'ada@example.com' } });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    // The README takes the id with sed: the id is the body's first field.
    expect(JSON.stringify(started.body).replace(/^\{"id":"([^"]+)".*/, '$1')).toBe(id);
    const view = async () => (await api.get(`/v1/sagas/${id}`)).body;
    await waitFor('the payment to wait', async () => ((await view()).steps[1].waitingFor?.type === 'callback' ? true : undefined));
    // Terminal 2 printed the callback to send.
    const printed = await waitFor('the printed callback', async () => /curl -s localhost:3000(\/v1\/callbacks\/[A-Za-z0-9_-]{43}) .* -d '([^']+)'/.exec(demoOutput) ?? undefined);
    const callback = await httpClient(t.baseUrl, null).request('POST', printed[1], printed[2], { 'content-type': 'application/json' });
    expect(callback.status).toBe(202);
    await waitFor('the approval to wait', async () => ((await view()).steps[2].waitingFor?.signal === 'manager-approval' ? true : undefined));
    const signal = await api.post(`/v1/sagas/${id}/signals/manager-approval`, { status: 'succeeded', output: { approvedBy: 'dana' } });
    expect(signal.status).toBe(202);
    const done = await api.get(`/v1/sagas/${id}?waitMs=10000`);
    expect(done.body.status).toBe('COMPLETED');
    expect(done.body.results['manager-approval']).toEqual({ approvedBy: 'dana' });
    expect(done.body.results.receipt).toMatchObject({ to: 'ada@example.com', order: '46' });
    expect(demoOutput).toMatch(new RegExp(`POST /mail/send/46 .*saga ${id}`));
    const events = (await api.get(`/v1/sagas/${id}/events`)).body.items as Array<{ type: string; step: string; data: any }>;
    expect(events.find((e) => e.type === 'StepStarted' && e.step === 'receipt')!.data.request.body).toEqual({
      to: 'ada@example.com',
      subject: 'Order 46 is on its way',
      tracking: done.body.results.ship.trackingId,
    });

    // Rejected: the payment is refunded and the reservation released.
    const rejected = (await api.post('/v1/sagas', { definition: 'order-with-approval', input: { orderId: 47, amount: 30, email: 'ada@example.com' } })).body.id as string;
    await waitFor('the second payment call', async () => (demoOutput.includes(`saga ${rejected}`) ? true : undefined));
    const second = await waitFor('the second printed callback', async () => {
      const all = [...demoOutput.matchAll(/curl -s localhost:3000(\/v1\/callbacks\/[A-Za-z0-9_-]{43}) .* -d '([^']+)'/g)];
      return all.length >= 2 ? all[1] : undefined;
    });
    expect((await httpClient(t.baseUrl, null).request('POST', second[1], second[2], { 'content-type': 'application/json' })).status).toBe(202);
    await waitFor('the approval to wait', async () => ((await api.get(`/v1/sagas/${rejected}`)).body.steps[2].waitingFor ? true : undefined));
    expect((await api.post(`/v1/sagas/${rejected}/signals/manager-approval`, { status: 'failed', error: { reason: 'over budget' } })).status).toBe(202);
    const compensated = await api.get(`/v1/sagas/${rejected}?waitMs=10000`);
    expect(compensated.body).toMatchObject({ status: 'COMPENSATED', error: { code: 'STEP_FAILED', step: 'manager-approval' } });
    expect(compensated.body.steps.slice(0, 2).map((s: { compensation: { status: string } }) => s.compensation.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});
