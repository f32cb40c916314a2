import { Client } from 'pg';
import { isSettled } from '../../src/engine/statuses.js';
import { MAX_JSON_DEPTH } from '../../src/common/json-guard.js';
import { NonRetryableError, startSagaParticipant, type SagaParticipant } from '../../src/participant/index.js';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { BASE_REDIS_URL } from '../support/test-redis.js';
import { waitFor } from '../support/wait-for.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * SPEC §3 and §6: whatever a participant sends back settles within the retry
 * budget. An output is stored exactly as sent or the step fails for good with
 * the reason; a reply Postgres cannot store never runs the attempt again.
 */
describe('A hostile participant', () => {
  let t: TestApp;
  let api: () => HttpClient;
  let participant: Participant;
  let queueParticipant: SagaParticipant;
  const queueCalls: string[] = [];
  const queueReplies: Record<string, () => unknown> = {};

  beforeAll(async () => {
    // A short reconcile interval: an attempt left outstanding would be re-dispatched within the quiet period below.
    t = await startTestApp({ RECONCILE_INTERVAL_MS: '200' });
    api = () => httpClient(t.baseUrl);
    participant = await new Participant().start();
    queueParticipant = startSagaParticipant({
      connection: BASE_REDIS_URL,
      prefix: t.redisPrefix,
      queue: 'hostile',
      handlers: {
        reply: (task) => {
          queueCalls.push(task.sagaId);
          return queueReplies[task.sagaId]?.();
        },
      },
    });
  });
  afterAll(async () => {
    await queueParticipant.close();
    await participant.stop();
    await t.close();
  });

  const settled = (id: string) =>
    waitFor(`saga ${id} to settle`, async () => {
      const res = await api().get(`/v1/sagas/${id}`);
      return isSettled(res.body.status) ? res.body : undefined;
    }, 30_000);
  /** Quiet time after settling in which a re-dispatched attempt would show up as an extra call. */
  const quiet = () => new Promise((r) => setTimeout(r, 1_000));

  /** Registers a one-step HTTP saga whose participant answers `answer` to every call; runs it to the end. */
  async function runHttp(name: string, answer: { status: number; raw: string | Buffer }, maxAttempts = 2) {
    participant.on(`/${name}`, () => ({ ...answer, headers: { 'content-type': 'application/json' } }));
    const def = await api().post('/v1/definitions', {
      name,
      steps: [{ name: 'call', action: { type: 'http', url: `${participant.url}/${name}` }, retry: { maxAttempts, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 } }],
    });
    expect(def.status).toBe(201);
    const saga = await settled((await api().post('/v1/sagas', { definition: name })).body.id);
    await quiet();
    return { saga, calls: participant.callsTo(`/${name}`).length, final: (await api().get(`/v1/sagas/${saga.id}`)).body };
  }

  it.each([
    ['nul-output', '{"a":"x\\u0000y"}', /output\.a holds U\+0000/],
    ['surrogate-output', '{"a":["\\ud800"]}', /output\.a\[0\] holds an unpaired UTF-16 surrogate/],
    ['deep-output', nested(10_000), /output\[0\] is nested deeper than 1000 levels/],
    ['huge-number', '{"n":1e400}', /output\.n is 1e400, beyond the largest number/],
    ['long-number', '{"n":12345678901234567890}', /output\.n is 12345678901234567890, which cannot be stored exactly/],
    ['proto-key', '{"x":{"__proto__":{"admin":true}}}', /output\.x has the key "__proto__"/],
  ])('should fail the step for good, after one call, on a 2xx output it cannot store as sent (%s)', async (name, raw, message) => {
    const { saga, calls, final } = await runHttp(name, { status: 200, raw });
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1, output: null, error: { retryable: false, status: 200 } });
    expect(saga.steps[0].error.message).toMatch(message);
    expect(calls).toBe(1);
    expect(final.status).toBe('COMPENSATED');
  });

  it('should fail the step for good on a 2xx body that is not UTF-8, instead of storing U+FFFD', async () => {
    const { saga, calls } = await runHttp('not-utf8', { status: 200, raw: Buffer.from([0x22, 0xff, 0xfe, 0x22]) });
    expect(saga.steps[0].error.message).toBe('The participant answered 200 with a body that is not valid UTF-8.');
    expect(calls).toBe(1);
  });

  it('should keep an output with constructor and toString keys exactly as sent', async () => {
    const raw = '{"constructor":"c","toString":{"valueOf":1},"n":1.5e300,"big":9007199254740991,"s":"\\ud83d\\ude00"}';
    const { saga, calls } = await runHttp('prototype-names', { status: 200, raw });
    expect(saga.status).toBe('COMPLETED');
    expect(saga.steps[0].output).toEqual(JSON.parse(raw));
    expect(saga.results.call).toEqual(JSON.parse(raw));
    expect(calls).toBe(1);
  });

  it('should keep a 4xx body it cannot store in the error, escaped and flagged, after one call', async () => {
    const { saga, calls } = await runHttp('nul-4xx', { status: 400, raw: '{"reason":"bad\\u0000input"}' });
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[0].error).toMatchObject({ status: 400, retryable: false, escaped: true, body: '{"reason":"bad\\u0000input"}' });
    expect(calls).toBe(1);
  });

  it('should retry a 5xx whose body it cannot store exactly within the budget, then stop', async () => {
    const { saga, calls } = await runHttp('nul-5xx', { status: 503, raw: '"busy\\u0000\\ud800"' }, 3);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 3, error: { status: 503, retryable: true, escaped: true } });
    expect(calls).toBe(3);
  });

  it('should fail the attempt for good, once, when Postgres itself refuses the outcome', async () => {
    // A real refusal by the database (SQLSTATE 22023), for a value no check above knows about.
    const db = new Client({ connectionString: t.database.url });
    await db.connect();
    try {
      await db.query(`CREATE FUNCTION refuse_marker() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.output::text LIKE '%refuse-me%' THEN RAISE EXCEPTION 'value refused by a test trigger' USING ERRCODE = '22023'; END IF;
          RETURN NEW;
        END $$`);
      await db.query(`CREATE TRIGGER refuse_marker BEFORE UPDATE ON saga_step FOR EACH ROW EXECUTE FUNCTION refuse_marker()`);
      const { saga, calls } = await runHttp('db-refuses', { status: 200, raw: '{"marker":"refuse-me"}' });
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1, error: { retryable: false } });
      expect(saga.steps[0].error.message).toBe("The participant's reply could not be stored: value refused by a test trigger.");
      expect(calls).toBe(1);
    } finally {
      await db.query('DROP TRIGGER IF EXISTS refuse_marker ON saga_step');
      await db.end();
    }
  });

  describe('on a queue', () => {
    async function runQueue(name: string, reply: () => unknown) {
      await api().post('/v1/definitions', {
        name,
        steps: [{ name: 'call', action: { type: 'queue', queue: 'hostile', task: 'reply' }, retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10, maxDelayMs: 10 }, timeoutMs: 5_000 }],
      });
      const id = (await api().post('/v1/sagas', { definition: name })).body.id as string;
      queueReplies[id] = reply;
      const saga = await settled(id);
      await quiet();
      return { saga, calls: queueCalls.filter((c) => c === id).length };
    }

    it.each([
      ['queue-nul', () => ({ a: 'x\0' }), /output\.a holds U\+0000/],
      ['queue-surrogate', () => ['\udfff'], /output\[0\] holds an unpaired/],
      ['queue-deep', () => JSON.parse(nested(MAX_JSON_DEPTH + 1)), /output\[0\] is nested deeper/],
      ['queue-proto', () => JSON.parse('{"__proto__":1}'), /has the key "__proto__"/],
    ])('should fail the step for good after one call on an output it cannot store (%s)', async (name, reply, message) => {
      const { saga, calls } = await runQueue(name, reply);
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(saga.steps[0].error.message).toMatch(message);
      expect(calls).toBe(1);
    });

    it('should keep an error message it cannot store, escaped, and fail for good after one call', async () => {
      const { saga, calls } = await runQueue('queue-nul-error', () => {
        throw new NonRetryableError('card\0declined');
      });
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps[0].error.message).toBe('card\\u0000declined (characters that cannot be stored are shown as \\u escapes)');
      expect(calls).toBe(1);
    });
  });
});
