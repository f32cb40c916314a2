import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startOwnServer, type OwnServer } from '../support/own-server.js';
import type { ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';
import { TEST_ADMIN_KEY } from '../support/api-key.js';

describe('Structured logs', () => {
  let own: OwnServer;
  let server: ServerProcess;
  let p: Participant;

  beforeAll(async () => {
    p = await new Participant().start();
    own = await startOwnServer({ LOG_LEVEL: 'debug' });
    server = own.server;
  });
  afterAll(async () => {
    await own.close();
    await p.stop();
  });

  const lines = () =>
    server
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');

  it('should write one JSON object per line, with request ids and the saga, step, phase and attempt of step logs', async () => {
    const api = httpClient(server.baseUrl);
    const echoed = await api.request('GET', '/v1/sagas', undefined, { 'x-request-id': 'req-logging-test-1' });
    expect(echoed.headers.get('x-request-id')).toBe('req-logging-test-1');
    expect((await api.get('/v1/stats')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    p.on('/lg2', () => ({ status: 422, body: { error: 'no' } }));
    await api.post('/v1/definitions', {
      name: 'logged',
      steps: [
        { name: 'lg1', action: { type: 'http', url: `${p.url}/lg1` }, compensation: { type: 'http', url: `${p.url}/lg1/undo` } },
        { name: 'lg2', action: { type: 'http', url: `${p.url}/lg2` } },
      ],
    });
    const saga = await sagaApi(api).settled((await api.post('/v1/sagas', { definition: 'logged' })).body.id);
    expect(saga.status).toBe('COMPENSATED');
    await waitFor('the step logs', async () => (lines().some((l) => l.includes('step attempt failed')) ? true : undefined));

    const parsed = lines().map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
    for (const entry of parsed) expect(entry).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
    expect(parsed).toContainEqual(expect.objectContaining({ msg: 'request', reqId: 'req-logging-test-1', method: 'GET', url: '/v1/sagas', status: 200 }));
    expect(parsed).toContainEqual(
      expect.objectContaining({ level: 'info', msg: expect.stringContaining('step attempt failed'), sagaId: saga.id, step: 'lg2', phase: 'action', attempt: 1, context: 'HttpAttempt' }),
    );
    expect(parsed).toContainEqual(expect.objectContaining({ level: 'debug', msg: 'step attempt succeeded', sagaId: saga.id, step: 'lg1', phase: 'compensation', attempt: 1 }));
    expect(server.output()).not.toContain(TEST_ADMIN_KEY);
  });
});
