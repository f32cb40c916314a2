import { Ajv, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { isSettled } from '../../src/engine/statuses.js';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

type Schema = Record<string, any>;

/**
 * The document's schemas as strict JSON Schema: every schema that lists its
 * properties forbids others (so an undocumented response field fails), and
 * OpenAPI 3.0's `nullable` next to a $ref (allOf) or a oneOf becomes "that
 * or null".
 */
function closed(schemas: Record<string, Schema>): Record<string, Schema> {
  const close = (s: Schema): Schema => {
    if (!s || typeof s !== 'object') return s;
    if (Array.isArray(s)) return s.map(close);
    let out: Schema = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, close(pv)])) : close(v)]));
    if (s.properties && s.additionalProperties === undefined) out.additionalProperties = false;
    if (out.nullable && (out.type === undefined || out.allOf || out.oneOf)) {
      const { nullable: _n, description, example, ...rest } = out;
      if (rest.allOf || rest.oneOf) delete rest.type;
      out = { description, example, anyOf: [rest, { type: 'null' }] };
    }
    return out;
  };
  return Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, close(s)]));
}

describe('OpenAPI document (/docs)', () => {
  let t: TestApp;
  let api: HttpClient;
  let p: Participant;
  let doc: Schema;
  let ajv: Ajv;

  beforeAll(async () => {
    t = await startTestApp();
    api = httpClient(t.baseUrl);
    p = await new Participant().start();
    doc = (await api.get('/docs/openapi.json')).body;
    if (process.env.DUMP_OPENAPI) (await import('node:fs')).writeFileSync(process.env.DUMP_OPENAPI, JSON.stringify(doc, null, 1));
    // Each member of a union fixes its `type`, so oneOf alone picks it (Ajv's discriminator keyword takes no `mapping`).
    ajv = new Ajv({ strict: false, discriminator: false, allErrors: true });
    (formatsPlugin as unknown as { default: (a: Ajv) => void }).default(ajv);
    ajv.addSchema({ $id: 'openapi', components: { schemas: closed(doc.components.schemas) } });
  });
  afterAll(async () => {
    await p.stop();
    await t.close();
  });

  /** The schema an operation documents for `status`, as a validator. */
  function responseValidator(method: string, path: string, status: number, contentType = 'application/json'): ValidateFunction {
    const response = doc.paths[path]?.[method]?.responses?.[String(status)];
    expect(response).toBeDefined();
    const schema = response.content[contentType].schema;
    // A problem answer is the problem schema with the operation's codes (allOf): its $refs point into the document.
    return ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')));
  }

  function expectValid(validate: ValidateFunction, body: unknown) {
    const ok = validate(body);
    if (!ok) throw new Error(`body does not match the documented schema: ${JSON.stringify(validate.errors, null, 1)}\n${JSON.stringify(body)}`);
  }

  it('should serve Swagger UI at /docs and the document as JSON and YAML', async () => {
    const ui = await api.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    // The page's own assets are served too.
    const assets = [...String(ui.body).matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const url = new URL(asset, `${t.baseUrl}/docs`).pathname;
      expect({ asset: url, status: (await api.get(url)).status }).toEqual({ asset: url, status: 200 });
    }
    expect(doc.openapi).toMatch(/^3\./);
    const yaml = await api.get('/docs/openapi.yaml');
    expect(yaml.status).toBe(200);
    expect(String(yaml.body)).toContain('/v1/sagas/{id}/replay:');
  });

  it('should declare the Idempotency-Key header of POST /v1/sagas once, optional', async () => {
    const headers = (doc.paths['/v1/sagas'].post.parameters as Schema[]).filter((p) => p.in === 'header');
    expect(headers.map((h) => [h.name, h.required ?? false])).toEqual([['Idempotency-Key', false]]);
  });

  it('should document every route with a summary, its responses and an example for every body', async () => {
    const expected = [
      'post /v1/definitions', 'get /v1/definitions', 'get /v1/definitions/{name}', 'get /v1/definitions/{name}/versions',
      'get /v1/definitions/{name}/versions/{version}', 'delete /v1/definitions/{name}',
      'post /v1/sagas', 'get /v1/sagas', 'post /v1/sagas/replay', 'get /v1/sagas/{id}', 'get /v1/sagas/{id}/events',
      'post /v1/sagas/{id}/cancel', 'post /v1/sagas/{id}/replay', 'get /v1/stats', 'get /health/live', 'get /health/ready',
      'post /v1/keys', 'get /v1/keys', 'get /v1/keys/current', 'delete /v1/keys/{id}', 'get /v1/audit',
      'post /v1/callbacks/{token}', 'post /v1/sagas/{id}/signals/{signal}',
    ];
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual(expected.sort());
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (path.startsWith('/health')) continue;
      for (const [method, op] of Object.entries(ops as Record<string, Schema>)) {
        expect({ route: `${method} ${path}`, summary: typeof op.summary }).toEqual({ route: `${method} ${path}`, summary: 'string' });
        const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
        expect(success.length).toBeGreaterThan(0);
        const errors = Object.entries(op.responses).filter(([s]) => /^[45]/.test(s));
        expect(errors.length).toBeGreaterThan(0);
        for (const [, r] of errors) expect(Object.keys((r as Schema).content)).toEqual(['application/problem+json']);
      }
    }
    // Request bodies: every property of the DTOs carries an example or a default.
    for (const name of ['CreateKeyDto', 'CreateDefinitionDto', 'StartSagaDto', 'ReplaySagaDto', 'CancelSagaDto', 'BulkReplayDto', 'HttpActionDto', 'QueueActionDto', 'SignalActionDto', 'RetryPolicyDto', 'StepDto', 'SignalDto', 'CallbackDto']) {
      const schema = doc.components.schemas[name];
      expect({ name, exists: !!schema }).toEqual({ name, exists: true });
      for (const [prop, s] of Object.entries(schema.properties as Record<string, Schema>)) {
        const documented = s.example !== undefined || s.default !== undefined || s.enum !== undefined || s.oneOf !== undefined || s.$ref !== undefined || s.items !== undefined || s.allOf !== undefined;
        expect({ dto: name, prop, documented }).toEqual({ dto: name, prop, documented: true });
      }
    }
  });

  it('should describe real responses exactly: definitions, sagas, lists, events, stats, bulk replay and problems', async () => {
    const definition = {
      name: 'doc-flow',
      description: 'documented',
      steps: [
        { name: 'one', action: { type: 'http', url: `${p.url}/one`, headers: { 'x-a': 'b' } }, compensation: { type: 'http', url: `${p.url}/one/undo` } },
        { name: 'two', action: { type: 'queue', queue: 'q-doc', task: 'two' } },
        { name: 'three', action: { type: 'http', url: `${p.url}/three` }, retry: { maxAttempts: 1 } },
      ],
    };
    p.on('/three', () => ({ status: 422, body: { reason: 'no' } }));
    const created = await api.post('/v1/definitions', definition);
    expectValid(responseValidator('post', '/v1/definitions', 201), created.body);
    expectValid(responseValidator('get', '/v1/definitions', 200), (await api.get('/v1/definitions')).body);
    expectValid(responseValidator('get', '/v1/definitions/{name}/versions', 200), (await api.get('/v1/definitions/doc-flow/versions')).body);

    await api.post('/v1/definitions', { name: 'doc-simple', steps: [{ name: 's', action: { type: 'http', url: `${p.url}/s` } }, { name: 't', action: { type: 'http', url: `${p.url}/three` } }], onStepFailure: 'pause' });
    const started = await api.post('/v1/sagas', { definition: 'doc-simple', input: { a: 1 }, correlationId: 'c-1' });
    expectValid(responseValidator('post', '/v1/sagas', 202), started.body);
    const paused = await waitFor('the saga to pause', async () => {
      const r = await api.get(`/v1/sagas/${started.body.id}`);
      return isSettled(r.body.status) ? r.body : undefined;
    });
    expect(paused.status).toBe('PAUSED');
    expectValid(responseValidator('get', '/v1/sagas/{id}', 200), paused);
    expectValid(responseValidator('get', '/v1/sagas/{id}/events', 200), (await api.get(`/v1/sagas/${paused.id}/events`)).body);
    expectValid(responseValidator('get', '/v1/sagas', 200), (await api.get('/v1/sagas')).body);
    expectValid(responseValidator('post', '/v1/sagas/replay', 200), (await api.post('/v1/sagas/replay', { all: true, dryRun: true })).body);
    expectValid(responseValidator('get', '/v1/stats', 200), (await api.get('/v1/stats')).body);
    const cancelled = await api.post(`/v1/sagas/${paused.id}/cancel`);
    expectValid(responseValidator('post', '/v1/sagas/{id}/cancel', 202), cancelled.body);
    const compensated = await waitFor('the saga to compensate', async () => {
      const r = await api.get(`/v1/sagas/${paused.id}`);
      return r.body.status === 'COMPENSATED' ? r.body : undefined;
    });
    expectValid(responseValidator('get', '/v1/sagas/{id}', 200), compensated);
    expectValid(responseValidator('post', '/v1/sagas/{id}/replay', 202), (await api.post(`/v1/sagas/${paused.id}/replay`, { input: { b: 2 } })).body);

    const invalid = await api.post('/v1/definitions', { name: 'BAD NAME', steps: [] });
    expectValid(responseValidator('post', '/v1/definitions', 400, 'application/problem+json'), invalid.body);
    // A saga that completed cannot be replayed, whenever it is asked.
    await api.post('/v1/definitions', { name: 'doc-done', steps: [{ name: 's', action: { type: 'http', url: `${p.url}/s` } }] });
    const done = await api.post('/v1/sagas?waitMs=10000', { definition: 'doc-done' });
    expect(done.body.status).toBe('COMPLETED');
    const conflict = await api.post(`/v1/sagas/${done.body.id}/replay`);
    expect(conflict.status).toBe(409);
    expectValid(responseValidator('post', '/v1/sagas/{id}/replay', 409, 'application/problem+json'), conflict.body);
    const missing = await api.get('/v1/sagas/00000000-0000-4000-8000-000000000000');
    expectValid(responseValidator('get', '/v1/sagas/{id}', 404, 'application/problem+json'), missing.body);
    expectValid(responseValidator('get', '/v1/keys/current', 200), (await api.get('/v1/keys/current')).body);
  });

  it('should describe a group\'s branches in the request body as lists of steps of the same shape', async () => {
    const doc = (await api.get('/docs/openapi.json')).body;
    const step = doc.components.schemas.StepDto;
    expect(step.properties.parallel).toMatchObject({ type: 'array', minItems: 2, maxItems: 10, items: { type: 'array', items: { $ref: '#/components/schemas/StepDto' } } });
    expect(step.properties.kind.enum).toEqual(['compensatable', 'pivot', 'retriable']);
    expect(step.required ?? []).not.toContain('action');
  });

  it('should describe real responses of groups, kinds and PAST_PIVOT exactly (SPEC §8, §9)', async () => {
    const http = (path: string) => ({ type: 'http', url: `${p.url}/${path}` });
    const created = await api.post('/v1/definitions', {
      name: 'doc-group',
      steps: [
        { name: 'g', parallel: [[{ name: 'ga', action: http('ga'), compensation: http('ga-undo') }], [{ name: 'gb', action: http('gb') }]] },
        { name: 'pv', kind: 'pivot', action: http('pv') },
        { name: 'rt', kind: 'retriable', action: http('rt') },
      ],
    });
    expect(created.status).toBe(201);
    expectValid(responseValidator('post', '/v1/definitions', 201), created.body);
    p.on('/rt', () => ({ status: 200, body: {}, delayMs: 500 }));
    const started = await api.post('/v1/sagas', { definition: 'doc-group' });
    await waitFor('the retriable step to start', async () => ((await api.get(`/v1/sagas/${started.body.id}`)).body.steps[3].status === 'RUNNING' ? true : undefined));
    const refused = await api.post(`/v1/sagas/${started.body.id}/cancel`);
    expect(refused.status).toBe(409);
    expectValid(responseValidator('post', '/v1/sagas/{id}/cancel', 409, 'application/problem+json'), refused.body);
    const done = await waitFor('completion', async () => {
      const r = await api.get(`/v1/sagas/${started.body.id}`);
      return r.body.status === 'COMPLETED' ? r.body : undefined;
    });
    expectValid(responseValidator('get', '/v1/sagas/{id}', 200), done);
    expectValid(responseValidator('get', '/v1/sagas/{id}/events', 200), (await api.get(`/v1/sagas/${done.id}/events`)).body);
  });

  it('should reject a response with an undocumented field (the check itself can fail)', () => {
    const validate = responseValidator('get', '/v1/stats', 200);
    expect(validate({ total: 0, byStatus: { RUNNING: 0, COMPLETED: 0, COMPENSATING: 0, COMPENSATED: 0, PAUSED: 0, FAILED: 0 }, byDefinition: [], at: new Date().toISOString(), extra: 1 })).toBe(false);
    expect(validate({ total: 0, byStatus: { RUNNING: 0 }, byDefinition: [], at: new Date().toISOString() })).toBe(false);
  });

  it('should describe real responses of callback, signal and mapped steps exactly (SPEC §10, §11)', async () => {
    p.on('/doc-cb', () => ({ status: 202 }));
    const created = await api.post('/v1/definitions', {
      name: 'doc-waits',
      steps: [
        { name: 'cb', action: { type: 'http', url: `${p.url}/doc-cb`, completion: 'callback', body: { id: '${input.a}' } }, timeoutMs: 86_400_000 * 2 },
        { name: 'sg', action: { type: 'signal', signal: 'go' }, timeoutMs: 60_000 },
      ],
    });
    expect(created.status).toBe(201);
    expectValid(responseValidator('post', '/v1/definitions', 201), created.body);
    expect(created.body.steps[0].action).toEqual({ type: 'http', method: 'POST', url: `${p.url}/doc-cb`, headers: {}, completion: 'callback', body: { id: '${input.a}' } });
    const id = (await api.post('/v1/sagas', { definition: 'doc-waits', input: { a: 1 } })).body.id;
    const call = await waitFor('the callback call', async () => p.calls.find((c) => c.path === '/doc-cb' && c.headers['x-saga-id'] === id));
    const waiting = await waitFor('the step to wait', async () => {
      const r = await api.get(`/v1/sagas/${id}`);
      return r.body.steps[0].waitingFor ? r.body : undefined;
    });
    expectValid(responseValidator('get', '/v1/sagas/{id}', 200), waiting);
    const token = call.headers['x-callback-token'] as string;
    const taken = await httpClient(t.baseUrl, null).post(`/v1/callbacks/${token}`, { status: 'succeeded', output: { ok: 1 } });
    expect(taken.status).toBe(202);
    expectValid(responseValidator('post', '/v1/callbacks/{token}', 202), taken.body);
    const unknown = await httpClient(t.baseUrl, null).post(`/v1/callbacks/${'x'.repeat(43)}`, { status: 'succeeded' });
    expectValid(responseValidator('post', '/v1/callbacks/{token}', 404, 'application/problem+json'), unknown.body);
    const signalled = await api.post(`/v1/sagas/${id}/signals/go`, { status: 'succeeded', output: {} });
    expect(signalled.status).toBe(202);
    expectValid(responseValidator('post', '/v1/sagas/{id}/signals/{signal}', 202), signalled.body);
    const unexpected = await api.post(`/v1/sagas/${id}/signals/stop`, { status: 'succeeded' });
    expect(unexpected.status).toBe(409);
    expectValid(responseValidator('post', '/v1/sagas/{id}/signals/{signal}', 409, 'application/problem+json'), unexpected.body);
  });
});
