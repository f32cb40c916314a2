import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startTestApp, TestApp } from '../support/test-app.js';

const BYPASSES = [
  'http://127.0.0.1/x', 'http://2130706433/x', 'http://0x7f000001/x', 'http://0177.0.0.1/x', 'http://127.1/x', 'http://0.0.0.0/x',
  'http://[::1]/x', 'http://[::ffff:127.0.0.1]/x', 'http://[::ffff:7f00:1]/x', 'http://169.254.169.254/latest/meta-data/',
  'http://[fe80::1]/x', 'http://10.0.0.1/x', 'http://172.16.0.1/x', 'http://192.168.1.1/x', 'http://100.64.0.1/x', 'http://[fc00::1]/x',
  'http://localhost/x', 'http://LOCALHOST./x', 'http://api.localhost/x', 'http://user:pass@example.com/x', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_x',
  'http://[::127.0.0.1]/x', 'http://[64:ff9b::169.254.169.254]/x', 'http://[2002:a00:1::1]/x', 'http://[2001:0:7f00:1::1]/x',
];

describe('SSRF guard (participant URLs)', () => {
  /** `t` runs with the default policy: no private networks allowed. */
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;

  beforeAll(async () => {
    t = await startTestApp({ PARTICIPANT_ALLOWED_NETWORKS: '' });
    api = httpClient(t.baseUrl);
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  it.each(BYPASSES)('should refuse a definition calling %s with 400 naming the field', async (url) => {
    const res = await api.post('/v1/definitions', { name: 'ssrf', steps: [{ name: 'a', action: { type: 'http', url } }] });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('steps[0].action.url');
  });

  it.each([
    ['http://127.1/x', 'reaches 127.0.0.1, a loopback address'],
    ['http://2130706433/x', 'reaches 127.0.0.1, a loopback address'],
    ['http://localhost./x', 'names localhost, a loopback name'],
    ['http://[::127.0.0.1]/x', 'embeds 127.0.0.1, a loopback address'],
  ])('should say why %s is refused, not that it is not a URL', async (url, reason) => {
    const res = await api.post('/v1/definitions', { name: 'ssrf', steps: [{ name: 'a', action: { type: 'http', url } }] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'steps[0].action.url', message: expect.stringContaining(reason) })]);
  });

  it('should check compensation URLs too, and store nothing', async () => {
    const res = await api.post('/v1/definitions', {
      name: 'ssrf-undo',
      steps: [{ name: 'a', action: { type: 'http', url: 'https://payments.example.com/x' }, compensation: { type: 'http', url: 'http://[::ffff:169.254.169.254]/' } }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'steps[0].compensation.url', message: expect.stringContaining('link-local') })]);
    expect((await api.get('/v1/definitions/ssrf-undo')).status).toBe(404);
  });

  it('should check again at dispatch, against the address it connects to', async () => {
    // An API instance that allows loopback accepts the definition; the worker, on the default policy, refuses the call.
    const lenient = await startTestApp({ ROLE: 'api', PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8' }, t);
    const worker = await startTestApp({ ROLE: 'worker', PARTICIPANT_ALLOWED_NETWORKS: '' }, t);
    try {
      const viaLenient = httpClient(lenient.baseUrl);
      const host = p.url.replace('127.0.0.1', 'localhost'); // a name: the refusal comes from the lookup, not the URL
      expect((await viaLenient.post('/v1/definitions', { name: 'ssrf-dispatch', steps: [{ name: 'd1', action: { type: 'http', url: `${host}/d1` } }] })).status).toBe(201);
      const saga = await sagaApi(viaLenient).settled((await viaLenient.post('/v1/sagas', { definition: 'ssrf-dispatch' })).body.id);
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0].error).toMatchObject({ retryable: false, refusedByPolicy: true, message: expect.stringContaining('loopback') });
      expect(p.callsTo('/d1')).toHaveLength(0);
    } finally {
      await worker.close();
      await lenient.close();
    }
  });

  it('should not follow redirects', async () => {
    const lenient = await startTestApp({ PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8' });
    try {
      const a = httpClient(lenient.baseUrl);
      p.on('/moved', () => ({ status: 302, body: {}, headers: { location: `${p.url}/target` } }));
      expect((await a.post('/v1/definitions', { name: 'redirects', steps: [{ name: 'r1', action: { type: 'http', url: `${p.url}/moved` } }] })).status).toBe(201);
      const saga = await sagaApi(a).settled((await a.post('/v1/sagas', { definition: 'redirects' })).body.id);
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0].error).toMatchObject({ status: 302, retryable: false });
      expect(p.callsTo('/target')).toHaveLength(0);
    } finally {
      await lenient.close();
    }
  });
});
