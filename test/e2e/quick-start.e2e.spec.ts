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
});
