import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { createSagaClient, SagaApiError } from '../../src/client/index.js';
import { typesFromDocument } from '../../src/client/generate.js';
import { example } from '../client/example.js';
import { TEST_ADMIN_KEY } from '../support/api-key.js';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { startOwnServer, type OwnServer } from '../support/own-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

/**
 * Warnings the linters may report, each with why it stays. Anything else
 * (and any error) fails the test.
 */
const JUSTIFIED_WARNINGS: Record<string, string> = {
  'redocly operation-4xx-response GET /health/live': 'liveness takes no input and needs no key: it answers 200, or nothing',
  'redocly operation-4xx-response GET /health/ready': 'readiness takes no input and needs no key: it answers 200 or 503',
};

/** The typed client (src/client) and the document it is generated from, as a TypeScript team meets them. */
describe('The OpenAPI document and the typed client', () => {
  // The compiled server, as users run it (the document is built from its decorators there).
  let own: OwnServer;
  let t: { baseUrl: string };
  let p: Participant;
  let document: Record<string, any>;
  let dir: string;

  beforeAll(async () => {
    own = await startOwnServer();
    t = { baseUrl: own.server.baseUrl };
    p = await new Participant().start();
    p.on('/charge', (call) => (call.body.amount > 1000 ? { status: 422, body: { error: 'over the limit' } } : { status: 200, body: { charged: call.body.amount } }));
    document = (await httpClient(t.baseUrl).get('/docs/openapi.json')).body;
    dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
    writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(document));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await p.stop();
    await own.close();
  });

  it('should pass Redocly (recommended) and Spectral (spectral:oas) with no error, and only the justified warnings', async () => {
    const found: string[] = [];
    // Redocly exits non-zero on errors; its JSON report on stdout says what they were.
    const redocly = await run(path.join(ROOT, 'node_modules/.bin/redocly'), ['lint', path.join(dir, 'openapi.json'), '--format=json'], { cwd: dir }).catch((e: { stdout: string }) => e);
    const redoclyReport = JSON.parse(String(redocly.stdout));
    for (const problem of redoclyReport.problems as Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>) {
      const where = decodeURIComponent(problem.location[0]?.pointer ?? '')
        .replace(/^#\/paths\/([^/]+)\/(\w+).*/, (_m, p1: string, m2: string) => `${m2.toUpperCase()} ${p1.replace(/~1/g, '/')}`);
      found.push(`redocly ${problem.ruleId} ${where}${problem.severity === 'error' ? ' (error)' : ''}`);
    }
    writeFileSync(path.join(dir, '.spectral.yaml'), 'extends: ["spectral:oas"]\n');
    const report = path.join(dir, 'spectral.json');
    // Spectral exits non-zero on errors; the report says what they were.
    await run(path.join(ROOT, 'node_modules/.bin/spectral'), ['lint', '-r', path.join(dir, '.spectral.yaml'), '-f', 'json', '-o', report, path.join(dir, 'openapi.json')], { cwd: dir }).catch(() => undefined);
    const spectralReport = JSON.parse(readFileSync(report, 'utf8'));
    for (const problem of spectralReport as Array<{ code: string; severity: number; path: string[] }>) {
      found.push(`spectral ${problem.code} ${problem.path.join('.')}${problem.severity === 0 ? ' (error)' : ''}`);
    }
    expect(found.sort()).toEqual(Object.keys(JUSTIFIED_WARNINGS).sort());
  }, 120_000);

  it('should generate exact types: unions by their discriminator, integers as integers, enums, any JSON as unknown', () => {
    const schemas = document.components.schemas;
    expect(schemas.StepDto.properties.action.discriminator).toEqual({
      propertyName: 'type',
      mapping: { http: '#/components/schemas/HttpActionDto', queue: '#/components/schemas/QueueActionDto', signal: '#/components/schemas/SignalActionDto' },
    });
    expect(schemas.HttpActionDto.properties.type).toEqual({ type: 'string', enum: ['http'] });
    const params = (p: string, m: string) => Object.fromEntries((document.paths[p][m].parameters as Array<{ name: string; schema: unknown }>).map((x) => [x.name, x.schema]));
    expect(params('/v1/sagas/{id}', 'get').waitMs).toMatchObject({ type: 'integer', minimum: 0, maximum: 60000 });
    expect(params('/v1/sagas/{id}/events', 'get')).toMatchObject({ after: { type: 'integer' }, limit: { type: 'integer' } });
    expect(params('/v1/definitions/{name}/versions/{version}', 'get').version).toMatchObject({ type: 'integer', minimum: 1 });
    expect(params('/v1/sagas', 'get').status).toMatchObject({ type: 'array', items: { enum: ['RUNNING', 'COMPLETED', 'COMPENSATING', 'COMPENSATED', 'PAUSED', 'FAILED'] } });
    expect(document.paths['/v1/sagas'].post.parameters.filter((x: { in: string }) => x.in === 'header').map((x: { name: string }) => x.name)).toEqual(['Idempotency-Key']);
    expect(schemas.StartSagaDto.properties.input.type).toBeUndefined();
    expect(document.paths['/v1/sagas/{id}/cancel'].post.responses['409'].content['application/problem+json'].schema.allOf[1].properties.code.enum).toEqual([
      'SAGA_STATE_CONFLICT',
      'PAST_PIVOT',
      'CONCURRENT_UPDATE',
    ]);
    expect(Object.keys(document.paths['/v1/sagas'].get.responses['429'].headers).sort()).toEqual(['Retry-After', 'X-Request-Id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    const ids = Object.values(document.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids).toEqual(expect.arrayContaining(['startSaga', 'getSaga', 'listSagas', 'replaySaga', 'cancelSaga', 'registerDefinition', 'sendSignal', 'completeCallback']));
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
  });

  it('should have committed the types generated from the served document (npm run build && npm run generate:client)', async () => {
    const committed = readFileSync(path.join(ROOT, 'src/client/api-types.ts'), 'utf8');
    expect(await typesFromDocument(document)).toBe(committed);
  });

  it('should compile the example program in strict mode with no cast, no non-null assertion and no any', () => {
    const file = path.join(ROOT, 'test/client/example.ts');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const casts: string[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || node.kind === ts.SyntaxKind.AnyKeyword) {
        casts.push(node.getText(source));
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    expect(casts).toEqual([]);
    const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: ['node'] });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 120_000);

  it('should run the example against a real server: register, trigger with a key, wait, page, read events, replay a PAUSED saga, a 404 by code', async () => {
    const log = await example(t.baseUrl, TEST_ADMIN_KEY, p.url);
    expect(log).toEqual([
      'registered client-example v1',
      'saga COMPLETED',
      'same key, same saga: true',
      'big order PAUSED: STEP_FAILED',
      'replayed: RUNNING',
      'listed 2 sagas, one per page',
      expect.stringMatching(/^history: SagaStarted StepStarted StepSucceeded StepStarted StepSucceeded SagaCompleted$/),
      '404 SAGA_NOT_FOUND',
    ]);
  });

  it('should retry a trigger after a network error with the same Idempotency-Key, starting one saga', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      const response = await fetch(input, init);
      // The first answer is lost on the way back: the saga was stored, the client saw a network error.
      if (calls === 1) throw new TypeError('fetch failed');
      return response;
    };
    const client = createSagaClient({ baseUrl: t.baseUrl, apiKey: TEST_ADMIN_KEY, fetch: flaky });
    const { data, idempotencyKey } = await client.startSaga({ definition: 'client-example', input: { amount: 1 }, correlationId: 'retried-trigger' });
    expect(calls).toBe(2);
    expect(idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    const list = await httpClient(t.baseUrl).get('/v1/sagas?correlationId=retried-trigger');
    expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([data.id]);
    await expect(client.waitForSaga('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(SagaApiError);
  });
});
