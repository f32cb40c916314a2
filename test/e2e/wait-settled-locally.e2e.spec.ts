import { SagaNotifications } from '../../src/executions/saga-notifications.js';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * The process that settles a saga wakes its own waiters (`waitMs`) at once,
 * without Postgres's notification, which other instances still rely on.
 */
describe('Waiting on a saga this process settles', () => {
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

  it('should wake a waiter when the saga settles here, with no Postgres notification at all', async () => {
    const api = httpClient(t.baseUrl);
    p.on('/slowish', () => ({ status: 200, body: {}, delayMs: 200 }));
    await api.post('/v1/definitions', { name: 'local-wake', steps: [{ name: 's', action: { type: 'http', url: `${p.url}/slowish` } }] });
    const notifications = t.app.get(SagaNotifications);
    // Stop listening to Postgres: only the in-process news can wake the waiter now.
    await notifications.onApplicationShutdown();
    const id = (await api.post('/v1/sagas', { definition: 'local-wake' })).body.id as string;
    const subscription = notifications.subscribe(id);
    try {
      // Resolves true when woken, false when the 900 ms pass (the call takes 200 ms).
      expect(await subscription.next(900)).toBe(true);
    } finally {
      subscription.close();
    }
    expect((await api.get(`/v1/sagas/${id}`)).body.status).toBe('COMPLETED');
  });
});
