import { httpClient, HttpClient } from '../support/http-client.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/** A small valid definition; tests derive variants from it. */
function definition(name = 'order-fulfilment', overrides: Record<string, unknown> = {}) {
  return {
    name,
    description: 'reserve, charge, notify',
    steps: [
      {
        name: 'reserve-inventory',
        action: { type: 'http', method: 'POST', url: 'http://inventory:8080/reserve', headers: { 'X-Team': 'shop' } },
        compensation: { type: 'http', method: 'POST', url: 'http://inventory:8080/release' },
        retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 },
        timeoutMs: 5000,
      },
      {
        name: 'charge-payment',
        action: { type: 'queue', queue: 'payments', task: 'charge' },
        compensation: { type: 'queue', queue: 'payments', task: 'refund' },
      },
      { name: 'notify', action: { type: 'http', url: 'http://mailer:8080/send' } },
    ],
    ...overrides,
  };
}

describe('Definitions API (SPEC §1)', () => {
  let t: TestApp;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('POST /v1/definitions', () => {
    it('should store a new definition as version 1 with every default explicit', async () => {
      const res = await api.post('/v1/definitions', definition('defaults'));
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe('/v1/definitions/defaults/versions/1');
      expect(res.body).toMatchObject({
        name: 'defaults',
        version: 1,
        description: 'reserve, charge, notify',
        timeoutMs: null,
        onStepFailure: 'compensate',
        enabled: true,
      });
      expect(typeof res.body.createdAt).toBe('string');
      const [reserve, charge, notify] = res.body.steps;
      expect(reserve).toEqual({
        name: 'reserve-inventory',
        kind: 'compensatable',
        action: { type: 'http', method: 'POST', url: 'http://inventory:8080/reserve', headers: { 'x-team': 'shop' } },
        compensation: { type: 'http', method: 'POST', url: 'http://inventory:8080/release', headers: {} },
        retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 },
        timeoutMs: 5000,
      });
      expect(charge).toEqual({
        name: 'charge-payment',
        kind: 'compensatable',
        action: { type: 'queue', queue: 'payments', task: 'charge' },
        compensation: { type: 'queue', queue: 'payments', task: 'refund' },
        retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 },
        timeoutMs: 10000,
      });
      expect(notify).toEqual({
        name: 'notify',
        kind: 'compensatable',
        action: { type: 'http', method: 'POST', url: 'http://mailer:8080/send', headers: {} },
        compensation: null,
        retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 },
        timeoutMs: 10000,
      });
    });

    it('should fill an omitted part of a retry policy from the defaults', async () => {
      const body = definition('partial-retry');
      body.steps[2] = { ...body.steps[2], retry: { maxAttempts: 7 } } as (typeof body.steps)[number];
      const res = await api.post('/v1/definitions', body);
      expect(res.status).toBe(201);
      expect(res.body.steps[2].retry).toEqual({ maxAttempts: 7, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 });
    });

    it('should raise the default delay cap to an explicit initial delay above it', async () => {
      const body = definition('slow-retry');
      body.steps[2] = { ...body.steps[2], retry: { initialDelayMs: 20000 } } as (typeof body.steps)[number];
      const res = await api.post('/v1/definitions', body);
      expect(res.status).toBe(201);
      expect(res.body.steps[2].retry).toMatchObject({ initialDelayMs: 20000, maxDelayMs: 20000 });
    });

    it('should keep timeoutMs and onStepFailure when given', async () => {
      const res = await api.post('/v1/definitions', definition('paused', { timeoutMs: 300000, onStepFailure: 'pause' }));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ timeoutMs: 300000, onStepFailure: 'pause' });
    });

    it('should return the latest version with 200 when the body is identical to it', async () => {
      const first = await api.post('/v1/definitions', definition('idempotent'));
      const again = await api.post('/v1/definitions', definition('idempotent'));
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    });

    it('should treat a body with other key order, header case or explicit defaults as identical', async () => {
      await api.post('/v1/definitions', definition('canonical'));
      const reordered = JSON.parse(JSON.stringify(definition('canonical')));
      reordered.steps[0] = {
        timeoutMs: 5000,
        retry: { maxDelayMs: 10000, initialDelayMs: 100, backoff: 'exponential', maxAttempts: 3 },
        compensation: { url: 'http://inventory:8080/release', type: 'http' },
        action: { headers: { 'x-TEAM': 'shop' }, url: 'http://inventory:8080/reserve', type: 'http' },
        name: 'reserve-inventory',
      };
      reordered.steps[2].retry = { maxAttempts: 3 };
      reordered.steps[2].timeoutMs = 10000;
      reordered.onStepFailure = 'compensate';
      const res = await api.post('/v1/definitions', reordered);
      expect(res.status).toBe(200);
      expect(res.body.version).toBe(1);
    });

    it('should create the next version when the definition changed', async () => {
      await api.post('/v1/definitions', definition('versioned'));
      const changed = definition('versioned', { description: 'changed' });
      const v2 = await api.post('/v1/definitions', changed);
      expect(v2.status).toBe(201);
      expect(v2.body.version).toBe(2);
      const back = await api.post('/v1/definitions', definition('versioned'));
      expect(back.status).toBe(201);
      expect(back.body.version).toBe(3);
      const same = await api.post('/v1/definitions', definition('versioned'));
      expect(same.status).toBe(200);
      expect(same.body.version).toBe(3);
    });

    it('should give concurrent posts of different versions distinct, gapless numbers', async () => {
      const n = 12;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => api.post('/v1/definitions', definition('race', { description: `variant ${i}` }))),
      );
      expect(results.map((r) => r.status)).toEqual(Array(n).fill(201));
      const versions = results.map((r) => r.body.version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const all = await api.get('/v1/definitions/race/versions');
      expect(all.body.items.map((d: { version: number }) => d.version)).toEqual(versions);
    });

    it('should create exactly one version when the same new definition is posted concurrently', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => api.post('/v1/definitions', definition('race-same'))));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 200)).toHaveLength(9);
      expect(new Set(results.map((r) => r.body.version))).toEqual(new Set([1]));
    });

    it('should accept exactly 100 steps', async () => {
      const steps = Array.from({ length: 100 }, (_, i) => ({ name: `s${i}`, action: { type: 'queue', queue: 'q', task: 't' } }));
      const res = await api.post('/v1/definitions', { name: 'hundred', steps });
      expect(res.status).toBe(201);
      expect(res.body.steps).toHaveLength(100);
    });
  });

  describe('validation (SPEC §1, §6)', () => {
    const base = () => JSON.parse(JSON.stringify(definition('valid-base')));
    const step0 = (patch: (s: any) => void) => {
      const b = base();
      patch(b.steps[0]);
      return b;
    };

    // Each case breaks one rule; the response must name the offending path.
    const cases: Array<[string, () => unknown, string]> = [
      ['name missing', () => ({ ...base(), name: undefined }), 'name'],
      ['name with upper case', () => ({ ...base(), name: 'Order' }), 'name'],
      ['name starting with a dash', () => ({ ...base(), name: '-order' }), 'name'],
      ['name of 101 characters', () => ({ ...base(), name: 'a'.repeat(101) }), 'name'],
      ['name with a space', () => ({ ...base(), name: 'my order' }), 'name'],
      ['name not a string', () => ({ ...base(), name: 42 }), 'name'],
      ['description over 2000 characters', () => ({ ...base(), description: 'x'.repeat(2001) }), 'description'],
      ['description not a string', () => ({ ...base(), description: ['x'] }), 'description'],
      ['saga timeoutMs of 0', () => ({ ...base(), timeoutMs: 0 }), 'timeoutMs'],
      ['saga timeoutMs not an integer', () => ({ ...base(), timeoutMs: 1.5 }), 'timeoutMs'],
      ['saga timeoutMs as a string', () => ({ ...base(), timeoutMs: '300000' }), 'timeoutMs'],
      ['onStepFailure unknown', () => ({ ...base(), onStepFailure: 'retry' }), 'onStepFailure'],
      ['steps missing', () => ({ ...base(), steps: undefined }), 'steps'],
      ['steps empty', () => ({ ...base(), steps: [] }), 'steps'],
      ['steps not an array', () => ({ ...base(), steps: { a: 1 } }), 'steps'],
      [
        'over 100 steps',
        () => ({ ...base(), steps: Array.from({ length: 101 }, (_, i) => ({ name: `s${i}`, action: { type: 'queue', queue: 'q', task: 't' } })) }),
        'steps',
      ],
      ['a step that is not an object', () => ({ ...base(), steps: ['reserve'] }), 'steps[0]'],
      ['step name missing', () => step0((s) => delete s.name), 'steps[0].name'],
      ['step name with a colon', () => step0((s) => (s.name = 'a:b')), 'steps[0].name'],
      ['duplicate step names', () => {
        const b = base();
        b.steps[2].name = 'reserve-inventory';
        return b;
      }, 'steps[2].name'],
      ['action missing', () => step0((s) => delete s.action), 'steps[0].action'],
      ['action not an object', () => step0((s) => (s.action = 'http://x')), 'steps[0].action'],
      ['action type unknown', () => step0((s) => (s.action.type = 'grpc')), 'steps[0].action.type'],
      ['action type missing', () => step0((s) => delete s.action.type), 'steps[0].action.type'],
      ['http url missing', () => step0((s) => delete s.action.url), 'steps[0].action.url'],
      ['http url relative', () => step0((s) => (s.action.url = '/reserve')), 'steps[0].action.url'],
      ['http url with another scheme', () => step0((s) => (s.action.url = 'ftp://inventory/reserve')), 'steps[0].action.url'],
      ['http url too long', () => step0((s) => (s.action.url = `http://x/${'a'.repeat(2050)}`)), 'steps[0].action.url'],
      ['http method GET', () => step0((s) => (s.action.method = 'GET')), 'steps[0].action.method'],
      ['http method lower case', () => step0((s) => (s.action.method = 'post')), 'steps[0].action.method'],
      ['headers not an object', () => step0((s) => (s.action.headers = ['x'])), 'steps[0].action.headers'],
      ['header value not a string', () => step0((s) => (s.action.headers = { 'x-n': 1 })), 'steps[0].action.headers'],
      ['header name invalid', () => step0((s) => (s.action.headers = { 'bad name': 'v' })), 'steps[0].action.headers'],
      ['header value with a newline', () => step0((s) => (s.action.headers = { 'x-a': 'v\r\nx-b: injected' })), 'steps[0].action.headers'],
      ['reserved header', () => step0((s) => (s.action.headers = { 'Idempotency-Key': 'mine' })), 'steps[0].action.headers'],
      ['same header twice in other case', () => step0((s) => (s.action.headers = { 'x-a': '1', 'X-A': '2' })), 'steps[0].action.headers'],
      ['queue action without queue', () => step0((s) => (s.action = { type: 'queue', task: 't' })), 'steps[0].action.queue'],
      ['queue action without task', () => step0((s) => (s.action = { type: 'queue', queue: 'q' })), 'steps[0].action.task'],
      ['queue name with a colon', () => step0((s) => (s.action = { type: 'queue', queue: 'a:b', task: 't' })), 'steps[0].action.queue'],
      ['url on a queue action', () => step0((s) => (s.action = { type: 'queue', queue: 'q', task: 't', url: 'http://x' })), 'steps[0].action.url'],
      ['compensation invalid', () => step0((s) => (s.compensation = { type: 'http', url: 'nope' })), 'steps[0].compensation.url'],
      ['compensation not an object', () => step0((s) => (s.compensation = true)), 'steps[0].compensation'],
      ['retry not an object', () => step0((s) => (s.retry = 3)), 'steps[0].retry'],
      ['maxAttempts of 0', () => step0((s) => (s.retry.maxAttempts = 0)), 'steps[0].retry.maxAttempts'],
      ['maxAttempts of 101', () => step0((s) => (s.retry.maxAttempts = 101)), 'steps[0].retry.maxAttempts'],
      ['maxAttempts as a string', () => step0((s) => (s.retry.maxAttempts = '3')), 'steps[0].retry.maxAttempts'],
      ['backoff unknown', () => step0((s) => (s.retry.backoff = 'random')), 'steps[0].retry.backoff'],
      ['initialDelayMs negative', () => step0((s) => (s.retry.initialDelayMs = -1)), 'steps[0].retry.initialDelayMs'],
      ['maxDelayMs over a day', () => step0((s) => (s.retry.maxDelayMs = 86_400_001)), 'steps[0].retry.maxDelayMs'],
      ['maxDelayMs below initialDelayMs', () => step0((s) => (s.retry = { initialDelayMs: 500, maxDelayMs: 100 })), 'steps[0].retry.maxDelayMs'],
      ['step timeoutMs of 0', () => step0((s) => (s.timeoutMs = 0)), 'steps[0].timeoutMs'],
      ['step timeoutMs over a day', () => step0((s) => (s.timeoutMs = 86_400_001)), 'steps[0].timeoutMs'],
      ['unknown top-level field', () => ({ ...base(), owner: 'me' }), 'owner'],
      ['unknown step field', () => step0((s) => (s.owner = 'me')), 'steps[0].owner'],
      ['parallel that is not a list of branches', () => step0((s) => (s.parallel = true)), 'steps[0].parallel'],
      ['unknown action field', () => step0((s) => (s.action.payload = {})), 'steps[0].action.payload'],
      ['a body on a queue action', () => step0((s) => (s.action = { type: 'queue', queue: 'q', task: 't', body: {} })), 'steps[0].action.body'],
      ['unknown retry field', () => step0((s) => (s.retry.jitter = true)), 'steps[0].retry.jitter'],
    ];

    it.each(cases)('should refuse %s with 400 naming the field', async (_label, make, path) => {
      const res = await api.post('/v1/definitions', make());
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      for (const e of res.body.errors) expect(typeof e.message).toBe('string');
    });

    it('should list every offending field in one response', async () => {
      const b = base();
      b.name = 'Bad Name';
      b.steps[0].action.url = 'nope';
      b.steps[1].retry = { maxAttempts: 0 };
      b.steps[2].name = 'charge-payment';
      const res = await api.post('/v1/definitions', b);
      expect(res.status).toBe(400);
      const paths = res.body.errors.map((e: { path: string }) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['name', 'steps[0].action.url', 'steps[1].retry.maxAttempts', 'steps[2].name']));
      expect(res.body.errors.find((e: { path: string }) => e.path === 'steps[0].action.url').pointer).toBe('/steps/0/action/url');
    });

    it('should store nothing when a definition is refused', async () => {
      const b = base();
      b.name = 'never-stored';
      b.steps[0].timeoutMs = -5;
      expect((await api.post('/v1/definitions', b)).status).toBe(400);
      expect((await api.get('/v1/definitions/never-stored')).status).toBe(404);
    });
  });

  describe('groups and kinds (SPEC §8, §9)', () => {
    const q = (task: string) => ({ type: 'queue', queue: 'q', task });
    const s = (name: string, extra: Record<string, unknown> = {}) => ({ name, action: q(name), compensation: q(`${name}-undo`), ...extra });
    const r = (name: string, extra: Record<string, unknown> = {}) => ({ name, kind: 'retriable', action: q(name), ...extra });
    const p = (name: string, extra: Record<string, unknown> = {}) => ({ name, kind: 'pivot', action: q(name), ...extra });
    const g = (name: string, ...branches: unknown[]) => ({ name, parallel: branches });
    const body = (...steps: unknown[]) => ({ name: 'grouped', steps });

    const cases: Array<[string, () => unknown, string]> = [
      ['a nested group', () => body(s('a'), g('g', [g('inner', [s('x')], [s('y')])], [s('b')])), 'steps[1].parallel[0][0].parallel'],
      ['a duplicate name across branches', () => body(g('g', [s('a')], [s('a')])), 'steps[0].parallel[1][0].name'],
      ['a group named like a step', () => body(s('a'), g('a', [s('b')], [s('c')])), 'steps[1].name'],
      [
        'over 100 steps in all, groups included',
        () => body(...Array.from({ length: 3 }, (_, k) => g(`g${k}`, ...Array.from({ length: 10 }, (_, b) => Array.from({ length: 4 }, (_, i) => s(`s${k}-${b}-${i}`)))))),
        'steps',
      ],
      ['a group of one branch', () => body(g('g', [s('a')])), 'steps[0].parallel'],
      ['a group of 11 branches', () => body(g('g', ...Array.from({ length: 11 }, (_, i) => [s(`b${i}`)]))), 'steps[0].parallel'],
      ['an empty branch', () => body(g('g', [s('a')], [])), 'steps[0].parallel[1]'],
      ['a branch that is not a list', () => body(g('g', [s('a')], s('b'))), 'steps[0].parallel[1]'],
      ['a group with an action', () => body({ ...g('g', [s('a')], [s('b')]), action: q('x') }), 'steps[0].action'],
      ['a group with a retry policy', () => body({ ...g('g', [s('a')], [s('b')]), retry: { maxAttempts: 2 } }), 'steps[0].retry'],
      ['a bad url in a branch step', () => body(g('g', [s('a', { action: { type: 'http', url: 'nope' } })], [s('b')])), 'steps[0].parallel[0][0].action.url'],
      [
        'a reserved header in a branch step',
        () => body(g('g', [s('a')], [s('b', { action: { type: 'http', url: 'http://x/b', headers: { 'X-Saga-Id': 'mine' } } })])),
        'steps[0].parallel[1][0].action.headers',
      ],
      ['an unknown kind', () => body(s('a', { kind: 'final' })), 'steps[0].kind'],
      ['two pivots', () => body(s('a'), p('p1'), p('p2')), 'steps[2].kind'],
      ['a pivot inside a group', () => body(s('a'), g('g', [p('p')], [s('b')])), 'steps[1].parallel[0][0].kind'],
      ['a compensatable step after the pivot', () => body(s('a'), p('p'), s('b')), 'steps[2].kind'],
      ['a compensatable step after a retriable step', () => body(s('a'), r('r'), s('b', { kind: 'compensatable' })), 'steps[2].kind'],
      ['a compensatable branch step after the pivot', () => body(p('p'), g('g', [r('r1')], [s('c')])), 'steps[1].parallel[1][0].kind'],
      ['a pivot after a retriable step', () => body(r('r'), p('p')), 'steps[1].kind'],
      ['a compensation on the pivot', () => body(p('p', { compensation: q('undo') })), 'steps[0].compensation'],
      ['a compensation on a retriable step', () => body(p('p'), r('r', { compensation: q('undo') })), 'steps[1].compensation'],
      ['maxAttempts 0 on a compensatable step', () => body(s('a', { retry: { maxAttempts: 0 } })), 'steps[0].retry.maxAttempts'],
      ['maxAttempts 0 on the pivot', () => body(p('p', { retry: { maxAttempts: 0 } })), 'steps[0].retry.maxAttempts'],
      ['without a pivot, a first retriable step inside a group', () => body(s('a'), g('g', [r('r1')], [r('r2')])), 'steps[1].parallel[0][0].kind'],
    ];

    it.each(cases)('should refuse %s with 400 naming the field', async (_label, make, path) => {
      const res = await api.post('/v1/definitions', make());
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    });

    const full = () =>
      body(s('reserve'), g('prepare', [s('charge')], [s('book'), { name: 'label', action: q('label') }]), p('capture'), r('receipt'), r('ship', { retry: { maxAttempts: 5 } }));

    it('should store a definition with a group, a pivot and retriable steps, every default explicit', async () => {
      const res = await api.post('/v1/definitions', full());
      expect(res.status).toBe(201);
      const [reserve, prepare, capture, receipt, ship] = res.body.steps;
      expect(reserve).toMatchObject({ name: 'reserve', kind: 'compensatable' });
      expect(prepare).toEqual({
        name: 'prepare',
        parallel: [
          [expect.objectContaining({ name: 'charge', kind: 'compensatable', compensation: q('charge-undo'), retry: expect.objectContaining({ maxAttempts: 3 }) })],
          [expect.objectContaining({ name: 'book', kind: 'compensatable' }), expect.objectContaining({ name: 'label', kind: 'compensatable', compensation: null })],
        ],
      });
      expect(capture).toMatchObject({ kind: 'pivot', compensation: null, retry: { maxAttempts: 3 } });
      expect(receipt).toMatchObject({ kind: 'retriable', compensation: null, retry: { maxAttempts: 0, backoff: 'exponential' } });
      expect(ship).toMatchObject({ kind: 'retriable', retry: { maxAttempts: 5 } });
      // Posting it again finds the same version.
      const again = await api.post('/v1/definitions', full());
      expect(again.status).toBe(200);
      expect(again.body.version).toBe(res.body.version);
    });

    it('should keep the header names of a branch step exactly as sent, even ones that shadow Object.prototype', async () => {
      const res = await api.post('/v1/definitions', {
        name: 'grouped-headers',
        steps: [g('g', [{ name: 'a', action: { type: 'http', url: 'http://x/a', headers: { constructor: 'kept' } } }], [s('b')])],
      });
      expect(res.status).toBe(201);
      expect(res.body.steps[0].parallel[0][0].action.headers).toEqual({ constructor: 'kept' });
    });
  });

  describe('bad request bodies', () => {
    it('should answer malformed JSON with 400 MALFORMED_JSON', async () => {
      const res = await api.post('/v1/definitions', '{"name": "x", "steps": [');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
    });

    it('should answer an empty JSON body with 400', async () => {
      const res = await api.request('POST', '/v1/definitions', undefined, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      expect(['MALFORMED_JSON', 'VALIDATION_FAILED']).toContain(res.body.code);
    });

    it('should answer a JSON array body with 400', async () => {
      const res = await api.post('/v1/definitions', [definition('in-array')]);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('should answer a body that is not JSON with 415', async () => {
      const res = await api.request('POST', '/v1/definitions', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(415);
      expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('should answer a body over 1 MiB with 413 and store nothing', async () => {
      const huge = definition('too-large', { description: 'x'.repeat(1024 * 1024) });
      const res = await api.post('/v1/definitions', huge);
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await api.get('/v1/definitions/too-large')).status).toBe(404);
    });

    it('should refuse a __proto__ key instead of merging it', async () => {
      const res = await api.post('/v1/definitions', '{"__proto__": {"admin": true}, "name": "proto", "steps": []}');
      expect(res.status).toBe(400);
    });
  });

  describe('reading', () => {
    beforeAll(async () => {
      await api.post('/v1/definitions', definition('read-a'));
      await api.post('/v1/definitions', definition('read-a', { description: 'second' }));
      await api.post('/v1/definitions', definition('read-b'));
    });

    it('should GET the latest version by name', async () => {
      const res = await api.get('/v1/definitions/read-a');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'read-a', version: 2, description: 'second' });
    });

    it('should list every version, oldest first', async () => {
      const res = await api.get('/v1/definitions/read-a/versions');
      expect(res.status).toBe(200);
      expect(res.body.items.map((d: { version: number; description: string }) => [d.version, d.description])).toEqual([
        [1, 'reserve, charge, notify'],
        [2, 'second'],
      ]);
    });

    it('should GET one version', async () => {
      const res = await api.get('/v1/definitions/read-a/versions/1');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'read-a', version: 1, description: 'reserve, charge, notify' });
    });

    it('should answer an unknown name with 404 DEFINITION_NOT_FOUND', async () => {
      for (const path of ['/v1/definitions/nope', '/v1/definitions/nope/versions', '/v1/definitions/nope/versions/1', '/v1/definitions/NOT%20VALID']) {
        const res = await api.get(path);
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('DEFINITION_NOT_FOUND');
      }
    });

    it('should answer an unknown version with 404 DEFINITION_VERSION_NOT_FOUND', async () => {
      const res = await api.get('/v1/definitions/read-a/versions/9');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('DEFINITION_VERSION_NOT_FOUND');
    });

    it('should answer a version that is not a positive integer with 400', async () => {
      for (const v of ['0', 'abc', '-1', '1.5']) {
        const res = await api.get(`/v1/definitions/read-a/versions/${v}`);
        expect(res.status).toBe(400);
        expect(res.body.errors[0].path).toBe('version');
      }
    });

    it('should list the latest version of each name, paginated by cursor without gaps or repeats', async () => {
      const all = await api.get('/v1/definitions?limit=1000');
      expect(all.status).toBe(200);
      expect(all.body.nextCursor).toBeNull();
      const names: string[] = all.body.items.map((d: { name: string }) => d.name);
      expect(names).toEqual([...names].sort());
      expect(new Set(names).size).toBe(names.length);
      expect(all.body.items.find((d: { name: string }) => d.name === 'read-a').version).toBe(2);

      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await api.get(`/v1/definitions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        paged.push(...page.body.items.map((d: { name: string }) => d.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(paged).toEqual(names);
    });

    it('should refuse a bad limit, a foreign cursor and unknown query parameters with 400', async () => {
      for (const [query, path] of [
        ['limit=0', 'limit'],
        ['limit=1001', 'limit'],
        ['limit=ten', 'limit'],
        ['cursor=not-a-cursor', 'cursor'],
        ['sort=name', 'sort'],
      ]) {
        const res = await api.get(`/v1/definitions?${query}`);
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      }
    });
  });

  describe('DELETE /v1/definitions/{name}', () => {
    it('should disable the name, keep it readable, and be idempotent', async () => {
      await api.post('/v1/definitions', definition('to-disable'));
      const res = await api.delete('/v1/definitions/to-disable');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'to-disable', version: 1, enabled: false });
      expect((await api.get('/v1/definitions/to-disable')).body.enabled).toBe(false);
      expect((await api.get('/v1/definitions/to-disable/versions/1')).body.enabled).toBe(false);
      const listed = (await api.get('/v1/definitions?limit=1000')).body.items.find((d: { name: string }) => d.name === 'to-disable');
      expect(listed.enabled).toBe(false);
      expect((await api.delete('/v1/definitions/to-disable')).status).toBe(200);
    });

    it('should answer an unknown name with 404', async () => {
      const res = await api.delete('/v1/definitions/never-registered');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('DEFINITION_NOT_FOUND');
    });

    it('should re-enable the name when a definition is posted again', async () => {
      await api.post('/v1/definitions', definition('re-enable'));
      await api.delete('/v1/definitions/re-enable');
      const same = await api.post('/v1/definitions', definition('re-enable'));
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ version: 1, enabled: true });
      await api.delete('/v1/definitions/re-enable');
      const changed = await api.post('/v1/definitions', definition('re-enable', { description: 'v2' }));
      expect(changed.status).toBe(201);
      expect(changed.body).toMatchObject({ version: 2, enabled: true });
    });
  });

  describe('problem+json', () => {
    it('should answer every error with an RFC 9457 body and a stable code', async () => {
      const res = await api.get('/v1/definitions/unknown-one');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual({
        type: 'urn:saga-orchestrator:problem:definition-not-found',
        title: 'Definition not found',
        status: 404,
        detail: 'No definition named "unknown-one".',
        code: 'DEFINITION_NOT_FOUND',
        definition: 'unknown-one',
        instance: '/v1/definitions/unknown-one',
      });
    });

    it('should answer an unknown route with 404 ROUTE_NOT_FOUND as problem+json', async () => {
      const res = await api.get('/v1/nothing-here');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('ROUTE_NOT_FOUND');
    });
  });
});
