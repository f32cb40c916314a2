import { request } from 'node:http';
import { connect } from 'node:net';
import { TEST_ADMIN_KEY } from '../support/api-key.js';
import { httpClient, HttpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startTestApp, TestApp } from '../support/test-app.js';

const PROBLEM = 'application/problem+json';
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Sends raw bytes on a new connection; resolves with everything the server wrote before it closed. */
function rawRequest(port: number, chunks: Array<string | Buffer>, pauseMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('utf8')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  });
}

/** Status line and the parsed problem of a raw HTTP answer. */
function parseRaw(answer: string): { status: number; contentType: string; body: any } {
  const [head, ...rest] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { status, contentType, body: JSON.parse(rest.join('\r\n\r\n')) };
}

/**
 * SPEC §6: bad input gets a clear 4xx problem+json, never a 500, and nothing
 * is stored. Every input here once got a 500, was changed silently, or was
 * answered outside problem+json.
 */
describe('A hostile client', () => {
  let t: TestApp;
  let api: HttpClient;
  let port: number;
  let participant: Participant;
  let pausedId: string;
  let compensatedId: string;

  beforeAll(async () => {
    t = await startTestApp({ REQUEST_TIMEOUT_MS: '1000' });
    api = httpClient(t.baseUrl);
    port = Number(new URL(t.baseUrl).port);
    participant = await new Participant().start();
    participant.on('/refuse', () => ({ status: 422, body: { no: true } }));
    const step = (name: string) => ({ name, action: { type: 'http', url: `${participant.url}/${name}` }, retry: { maxAttempts: 1 } });
    expect((await api.post('/v1/definitions', { name: 'target', steps: [step('ok')] })).status).toBe(201);
    expect((await api.post('/v1/definitions', { name: 'pauses', onStepFailure: 'pause', steps: [step('refuse')] })).status).toBe(201);
    expect((await api.post('/v1/definitions', { name: 'compensates', steps: [step('refuse')] })).status).toBe(201);
    pausedId = (await api.post('/v1/sagas?waitMs=10000', { definition: 'pauses' })).body.id;
    compensatedId = (await api.post('/v1/sagas?waitMs=10000', { definition: 'compensates' })).body.id;
    expect((await api.get(`/v1/sagas/${pausedId}`)).body.status).toBe('PAUSED');
    expect((await api.get(`/v1/sagas/${compensatedId}`)).body.status).toBe('COMPENSATED');
  });
  afterAll(async () => {
    await participant.stop();
    await t.close();
  });

  /** What is stored: every saga and every definition version, to show a refused request changed nothing. */
  async function stored() {
    // Ids and runs (the accepted sagas of other tests may still be running); the two sagas that cancel and replay target, whole.
    const sagas = (await api.get('/v1/sagas?limit=500')).body.items.map((s: { id: string; run: number }) => `${s.id}:${s.run}`);
    const targets = [(await api.get(`/v1/sagas/${pausedId}`)).body.status, (await api.get(`/v1/sagas/${compensatedId}`)).body.status];
    const definitions = (await api.get('/v1/definitions')).body.items.map((d: { name: string; version: number }) => `${d.name}@${d.version}`);
    const events = (await api.get(`/v1/sagas/${pausedId}/events`)).body.items.length + (await api.get(`/v1/sagas/${compensatedId}/events`)).body.items.length;
    return { sagas, targets, definitions, events };
  }

  function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, path?: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain(PROBLEM);
    expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^urn:saga-orchestrator:problem:/), code: expect.any(String) });
    if (path !== undefined) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  }

  const definition = (extra: Record<string, unknown> = {}, headers: Record<string, string> = { 'x-team': 'shop' }) => ({
    name: 'hostile-def',
    steps: [{ name: 's', action: { type: 'http', url: 'http://127.0.0.1:9/ok', headers } }],
    ...extra,
  });

  // Raw JSON text, so that the escapes reach the server exactly as written.
  it.each([
    ['NUL in input', '/v1/sagas', '{"definition":"target","input":{"name":"a\\u0000b"}}', 'input.name'],
    ['NUL in a key of input', '/v1/sagas', '{"definition":"target","input":{"a":{"k\\u0000":1}}}', 'input.a'],
    ['NUL in correlationId', '/v1/sagas', '{"definition":"target","correlationId":"order\\u0000"}', 'correlationId'],
    ['a lone high surrogate in input', '/v1/sagas', '{"definition":"target","input":["\\ud800"]}', 'input[0]'],
    ['a lone low surrogate in correlationId', '/v1/sagas', '{"definition":"target","correlationId":"\\udc00x"}', 'correlationId'],
    ['1e400 in input', '/v1/sagas', '{"definition":"target","input":{"n":1e400}}', 'input.n'],
    ['a number beyond a double\'s digits', '/v1/sagas', '{"definition":"target","input":{"n":123456789012345678901234567890}}', 'input.n'],
    ['version 2147483648', '/v1/sagas', '{"definition":"target","version":2147483648}', 'version'],
    ['a __proto__ key', '/v1/sagas', '{"definition":"target","input":{"__proto__":{"admin":true}}}', 'input'],
    ['a body nested 10,000 deep', '/v1/sagas', `{"definition":"target","input":${nested(10_000)}}`, 'input'],
    ['NUL in a description', '/v1/definitions', JSON.stringify(definition({ description: 'x\0y' })), 'description'],
    ['NUL in a header value', '/v1/definitions', JSON.stringify(definition({}, { 'x-team': 'a\0b' })), 'steps[0].action.headers.x-team'],
    ['NUL in a cancel reason', 'CANCEL', '{"reason":"oops\\u0000"}', 'reason'],
    ['NUL in a replay reason', 'REPLAY', '{"reason":"\\u0000"}', 'reason'],
    ['NUL in a replay input', 'REPLAY_COMPENSATED', '{"input":{"x":"\\u0000"}}', 'input.x'],
    ['a lone surrogate in a bulk replay reason', '/v1/sagas/replay', '{"all":true,"reason":"\\ud83d"}', 'reason'],
    ['NUL in a key name', '/v1/keys', '{"name":"k\\u0000","scopes":["sagas:read"]}', 'name'],
    ['NUL in a mapped body', '/v1/definitions', JSON.stringify(definition({ steps: [{ name: 's', action: { type: 'http', url: 'http://127.0.0.1:9/ok', body: { a: 'x\0' } } }] })), 'steps[0].action.body.a'],
    ['a placeholder that is not a path', '/v1/definitions', JSON.stringify(definition({ steps: [{ name: 's', action: { type: 'http', url: 'http://127.0.0.1:9/${process.env}' } }] })), 'steps[0].action.url'],
    ['NUL in a callback output', 'CALLBACK', '{"status":"succeeded","output":{"a":"\\u0000"}}', 'output.a'],
    ['a lone surrogate in a callback error', 'CALLBACK', '{"status":"failed","error":"\\udfff"}', 'error'],
    ['1e400 in a callback output', 'CALLBACK', '{"status":"succeeded","output":1e400}', 'output'],
    ['a __proto__ key in a signal output', 'SIGNAL', '{"status":"succeeded","output":{"__proto__":{"x":1}}}', 'output'],
    ['a signal output nested 10,000 deep', 'SIGNAL', `{"status":"succeeded","output":${nested(10_000)}}`, 'output'],
    ['a signal status that is not one', 'SIGNAL', '{"status":"approved"}', 'status'],
    ['retryable on a signal', 'SIGNAL', '{"status":"failed","retryable":true}', 'retryable'],
    ['a callback output over 256 KiB', 'CALLBACK', JSON.stringify({ status: 'succeeded', output: 'x'.repeat(300_000) }), 'output'],
  ])('should refuse %s with 400 naming the field, storing nothing', async (_what, target, raw, path) => {
    const before = await stored();
    const url =
      target === 'CANCEL'
        ? `/v1/sagas/${pausedId}/cancel`
        : target === 'REPLAY'
          ? `/v1/sagas/${pausedId}/replay`
          : target === 'REPLAY_COMPENSATED'
            ? `/v1/sagas/${compensatedId}/replay`
            : target === 'CALLBACK'
              ? `/v1/callbacks/${'k'.repeat(43)}`
              : target === 'SIGNAL'
                ? `/v1/sagas/${pausedId}/signals/approve`
                : target;
    const res = await api.post(url, raw);
    expectProblem(res, 400, path);
    expect(await stored()).toEqual(before);
  });

  it('should accept a body nested 1,000 deep, and keep it exactly', async () => {
    const input = JSON.parse(nested(999));
    const res = await api.post('/v1/sagas', `{"definition":"target","input":${nested(999)}}`);
    expect(res.status).toBe(202);
    expect(res.body.input).toEqual(input);
  });

  it('should refuse a body that is not UTF-8 instead of storing U+FFFD', async () => {
    const before = await stored();
    const bytes = Buffer.concat([Buffer.from('{"definition":"target","input":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await api.request('POST', '/v1/sagas', bytes, { 'content-type': 'application/json' });
    expectProblem(res, 400);
    expect(res.body.code).toBe('MALFORMED_JSON');
    expect(res.body.detail).toMatch(/not valid UTF-8/);
    expect(await stored()).toEqual(before);
  });

  it('should keep constructor, toString and other prototype names in input and header maps exactly as sent', async () => {
    const input = { constructor: 'x', toString: { valueOf: 1, hasOwnProperty: [true] }, prototype: null };
    const res = await api.post('/v1/sagas', { definition: 'target', input });
    expect(res.status).toBe(202);
    expect(res.body.input).toEqual(input);
    expect((await api.get(`/v1/sagas/${res.body.id}`)).body.input).toEqual(input);
    const def = await api.post('/v1/definitions', definition({ name: 'proto-headers' }, { constructor: 'a', toString: 'b' }));
    expect(def.status).toBe(201);
    // Header names are stored lower-cased (ADR 0002); their values as sent.
    expect(def.body.steps[0].action.headers).toEqual({ constructor: 'a', tostring: 'b' });
  });

  it('should report a prototype name outside a free-form field as an unknown field, not drop it', async () => {
    const before = await stored();
    const res = await api.post('/v1/sagas', '{"definition":"target","constructor":{"x":1}}');
    expectProblem(res, 400, 'constructor');
    const def = await api.post('/v1/definitions', JSON.stringify({ ...definition(), steps: [{ ...definition().steps[0], toString: 'x' }] }));
    expectProblem(def, 400, 'steps[0].toString');
    expect(await stored()).toEqual(before);
  });

  it.each([
    ['/v1/sagas?correlationId=%00', 'correlationId'],
    ['/v1/sagas?definition=a&correlationId=x%00y', 'correlationId'],
    ['/v1/definitions/%00', 'name'],
  ])('should refuse NUL in a query or path parameter (%s) with 400', async (url, path) => {
    expectProblem(await api.get(url), 400, path);
  });

  it('should answer 404 problem+json for a 300-character saga id, and 414 past 1,000 characters', async () => {
    for (const path of [`/v1/sagas/${'a'.repeat(300)}`, `/v1/sagas/${'a'.repeat(1_000)}/events`, `/v1/sagas/${'a'.repeat(300)}/cancel`]) {
      const res = path.endsWith('/cancel') ? await api.post(path, {}) : await api.get(path);
      expectProblem(res, 404);
      expect(res.body.code).toBe('SAGA_NOT_FOUND');
    }
    expectProblem(await api.get(`/v1/definitions/${'a'.repeat(500)}`), 404);
    const tooLong = await api.get(`/v1/sagas/${'a'.repeat(1_001)}`);
    expectProblem(tooLong, 414);
    expect(tooLong.body.code).toBe('URI_TOO_LONG');
  });

  it('should answer 431 problem+json for 100 KB of headers', async () => {
    const res = await api.request('GET', '/v1/sagas', undefined, { 'x-filler': 'a'.repeat(100_000) });
    expectProblem(res, 431);
    expect(res.body.code).toBe('HEADERS_TOO_LARGE');
  });

  it('should answer 400 problem+json for a bad percent-escape', async () => {
    const res = await api.get('/v1/sagas/%zz');
    expectProblem(res, 400);
    expect(res.body.code).toBe('MALFORMED_REQUEST');
  });

  it('should answer 400 problem+json for a Content-Length that is not a number', async () => {
    const answer = await rawRequest(port, ['POST /v1/sagas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12abc\r\n\r\n{}']);
    const { status, contentType, body } = parseRaw(answer);
    expect(status).toBe(400);
    expect(contentType).toBe(PROBLEM);
    expect(body).toMatchObject({ code: 'MALFORMED_REQUEST', status: 400 });
  });

  it('should answer 400 problem+json when the body is shorter than its Content-Length says', async () => {
    const answer = await rawRequest(port, [
      `POST /v1/sagas HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"definition":"target"}`,
    ]).catch(() => '');
    // The server cannot know the body ended early until the request timeout; then it says so.
    const { status, contentType } = parseRaw(answer);
    expect([400, 408]).toContain(status);
    expect(contentType).toContain(PROBLEM);
  });

  it.each([2, 6, 20, 50])('should answer 413 problem+json to a %i MiB body, which fetch sees', async (mib) => {
    const before = await stored();
    const body = `{"definition":"target","input":"${'a'.repeat(mib * 1024 * 1024)}"}`;
    const res = await api.post('/v1/sagas', body);
    expectProblem(res, 413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await stored()).toEqual(before);
  });

  it('should answer 413 to a chunked body that grows past 1 MiB, after reading it, so a slow streaming client sees it', async () => {
    const before = await stored();
    const answer = await new Promise<{ status: number; contentType: string; body: string }>((resolve, reject) => {
      const req = request(`${t.baseUrl}/v1/sagas`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      // 3 MiB in 64 KiB chunks, 10 ms apart: a client still sending well after the server has seen too much.
      const chunk = 'a'.repeat(64 * 1024);
      req.write('{"definition":"target","input":"');
      let sent = 0;
      const pump = () => {
        if (sent++ === 48) return void req.end('"}');
        req.write(chunk);
        setTimeout(pump, 10);
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(answer.contentType).toContain(PROBLEM);
    expect(JSON.parse(answer.body).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await stored()).toEqual(before);
  });

  it('should answer 405 with Allow for a method the route lacks, and 404 for a path that does not exist', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/v1/sagas', 'GET, HEAD, POST'],
      ['PATCH', '/v1/definitions', 'GET, HEAD, POST'],
      ['DELETE', `/v1/sagas/${pausedId}`, 'GET, HEAD'],
      ['GET', `/v1/sagas/${pausedId}/cancel`, 'POST'],
    ]) {
      const res = await api.request(method, path);
      expectProblem(res, 405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', allowed: allow.split(', ') });
    }
    const missing = await api.request('PUT', '/v1/nothing-here');
    expectProblem(missing, 404);
  });

  it('should answer 408 problem+json to a request that stalls mid-body, and close it', async () => {
    const started = Date.now();
    const answer = await rawRequest(port, [
      'POST /v1/sagas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"defin',
    ]);
    const { status, contentType, body } = parseRaw(answer);
    expect(status).toBe(408);
    expect(contentType).toBe(PROBLEM);
    expect(body.code).toBe('REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('should still answer a long poll that outlasts the request timeout (the request itself was complete)', async () => {
    participant.on('/slow', () => ({ status: 200, body: { done: true }, delayMs: 2_500 }));
    await api.post('/v1/definitions', { name: 'slow', steps: [{ name: 'slow', action: { type: 'http', url: `${participant.url}/slow` } }] });
    const started = Date.now();
    const res = await api.post('/v1/sagas?waitMs=10000', { definition: 'slow' });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('COMPLETED');
    expect(Date.now() - started).toBeGreaterThan(2_000);
  });

  it('should never have answered 500', async () => {
    const body = (await api.get('/metrics')).body as string;
    const fives = body.split('\n').filter((l) => /^http_request_duration_seconds_count\{.*status="5\d\d"/.test(l));
    expect(fives).toEqual([]);
  });
});
