import { httpClient, HttpClient } from '../support/http-client.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { TEST_ADMIN_KEY } from '../support/api-key.js';

describe('Bull Board at /admin/queues', () => {
  let t: TestApp;
  let admin: HttpClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = httpClient(t.baseUrl);
  });
  afterAll(async () => t.close());

  const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`admin:${key}`).toString('base64')}` });

  it('should ask for a keys:admin key and show the steps, timers and results queues', async () => {
    const anonymous = await httpClient(t.baseUrl, null).get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    expect(anonymous.body.code).toBe('UNAUTHENTICATED');

    const reader = (await admin.post('/v1/keys', { name: 'reader', scopes: ['sagas:read'] })).body.key;
    const forbidden = await httpClient(t.baseUrl, null).request('GET', '/admin/queues', undefined, basic(reader));
    expect(forbidden.status).toBe(403);

    const page = await httpClient(t.baseUrl, null).request('GET', '/admin/queues', undefined, basic(TEST_ADMIN_KEY));
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('<html');
    const queues = await admin.get('/admin/queues/api/queues');
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['saga-results', 'saga-steps', 'saga-timers']);
    // The API behind the board is guarded too.
    expect((await httpClient(t.baseUrl, reader).get('/admin/queues/api/queues')).status).toBe(403);
  });
});
