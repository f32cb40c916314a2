import type { OpenAPIObject } from '@nestjs/swagger';
import { ErrorCode } from '../common/app-error.js';
import { SagaStatus } from '../engine/statuses.js';

/**
 * What @nestjs/swagger's decorators cannot say, applied to the generated
 * document so that generators (openapi-typescript) and linters (Redocly,
 * Spectral) read it as the server behaves:
 * - operation ids that read as methods (`startSaga`);
 * - integer parameters as integers;
 * - free-form JSON (`input`, `output`, `data`, …) as any JSON, not an empty object;
 * - `nullable` always beside a `type`;
 * - discriminated unions with their `mapping`, each member's `type` one value;
 * - the problem codes each operation answers, as an enum per response;
 * - the headers answers carry: X-Request-Id, the rate limit's, Location on 201, Retry-After on 429;
 * - servers, license, and the public routes marked as needing no key.
 * Pure: takes the document and returns it changed.
 */

/** Nest's `{Controller}_{method}` → the name generated clients use. */
const OPERATION_IDS: Record<string, string> = {
  HealthController_live: 'getLiveness',
  HealthController_ready: 'getReadiness',
  KeysController_create: 'createKey',
  KeysController_list: 'listKeys',
  KeysController_current: 'getCurrentKey',
  KeysController_revoke: 'revokeKey',
  KeysController_auditTrail: 'listAuditEntries',
  DefinitionsController_create: 'registerDefinition',
  DefinitionsController_list: 'listDefinitions',
  DefinitionsController_latest: 'getDefinition',
  DefinitionsController_disable: 'disableDefinition',
  DefinitionsController_versions: 'listDefinitionVersions',
  DefinitionsController_version: 'getDefinitionVersion',
  ExecutionsController_start: 'startSaga',
  ExecutionsController_list: 'listSagas',
  ExecutionsController_bulkReplay: 'replaySagas',
  ExecutionsController_get: 'getSaga',
  ExecutionsController_events: 'listSagaEvents',
  ExecutionsController_cancel: 'cancelSaga',
  ExecutionsController_replay: 'replaySaga',
  StatsController_stats: 'getStats',
  WaitsController_callback: 'completeCallback',
  WaitsController_signal: 'sendSignal',
};

/** Query and path parameters that are whole numbers, with their bounds. */
const INTEGER_PARAMETERS: Record<string, { minimum: number; maximum?: number }> = {
  waitMs: { minimum: 0, maximum: 60_000 },
  after: { minimum: 0 },
  limit: { minimum: 1, maximum: 1_000 },
  version: { minimum: 1, maximum: 2_147_483_647 },
};

/** Problem codes by operation and status, where they are known (the rest answer the codes of their status in general). */
const PROBLEM_CODES: Record<string, Record<number, ErrorCode[]>> = {
  registerDefinition: { 400: [ErrorCode.VALIDATION_FAILED, ErrorCode.MALFORMED_JSON], 409: [ErrorCode.CONCURRENT_UPDATE] },
  getDefinition: { 404: [ErrorCode.DEFINITION_NOT_FOUND] },
  getDefinitionVersion: { 404: [ErrorCode.DEFINITION_NOT_FOUND, ErrorCode.DEFINITION_VERSION_NOT_FOUND] },
  listDefinitionVersions: { 404: [ErrorCode.DEFINITION_NOT_FOUND] },
  disableDefinition: { 404: [ErrorCode.DEFINITION_NOT_FOUND] },
  startSaga: {
    404: [ErrorCode.DEFINITION_NOT_FOUND, ErrorCode.DEFINITION_VERSION_NOT_FOUND],
    409: [ErrorCode.DEFINITION_DISABLED],
    422: [ErrorCode.IDEMPOTENCY_KEY_REUSED],
  },
  getSaga: { 404: [ErrorCode.SAGA_NOT_FOUND] },
  listSagaEvents: { 404: [ErrorCode.SAGA_NOT_FOUND] },
  cancelSaga: { 404: [ErrorCode.SAGA_NOT_FOUND], 409: [ErrorCode.SAGA_STATE_CONFLICT, ErrorCode.PAST_PIVOT, ErrorCode.CONCURRENT_UPDATE] },
  replaySaga: { 404: [ErrorCode.SAGA_NOT_FOUND], 409: [ErrorCode.SAGA_STATE_CONFLICT, ErrorCode.CONCURRENT_UPDATE] },
  revokeKey: { 404: [ErrorCode.KEY_NOT_FOUND] },
  completeCallback: { 404: [ErrorCode.CALLBACK_NOT_FOUND], 409: [ErrorCode.CALLBACK_NOT_OUTSTANDING] },
  sendSignal: { 404: [ErrorCode.SAGA_NOT_FOUND], 409: [ErrorCode.SIGNAL_ALREADY_RECEIVED, ErrorCode.SIGNAL_NOT_EXPECTED, ErrorCode.CONCURRENT_UPDATE] },
};

/** Codes any operation may answer with a status. */
const GENERAL_CODES: Record<number, ErrorCode[]> = {
  400: [ErrorCode.VALIDATION_FAILED, ErrorCode.MALFORMED_JSON, ErrorCode.MALFORMED_REQUEST],
  401: [ErrorCode.UNAUTHENTICATED],
  403: [ErrorCode.FORBIDDEN],
  413: [ErrorCode.PAYLOAD_TOO_LARGE],
  415: [ErrorCode.UNSUPPORTED_MEDIA_TYPE],
  422: [ErrorCode.IDEMPOTENCY_KEY_REUSED],
  429: [ErrorCode.RATE_LIMITED],
  503: [ErrorCode.NOT_READY, ErrorCode.SERVICE_UNAVAILABLE],
};

/** Unions of action schemas: the union's members and the `type` value each stands for. */
const ACTION_MEMBERS: Record<string, string> = {
  HttpActionDto: 'http',
  QueueActionDto: 'queue',
  SignalActionDto: 'signal',
  HttpActionSchema: 'http',
  QueueActionSchema: 'queue',
  SignalActionSchema: 'signal',
};

type Json = Record<string, any>;

const REQUEST_ID = { description: 'The request id (sent by the client as X-Request-Id, or made up); it is in every log line of the request', schema: { type: 'string' } };
const RETRY_AFTER = { description: 'Seconds until the limit resets', schema: { type: 'integer' } };
/** Sent on every answer of a rate-limited route (all but /health). */
const RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit': { description: 'Requests allowed per minute', schema: { type: 'integer' } },
  'x-ratelimit-remaining': { description: 'Requests left in this minute', schema: { type: 'integer' } },
  'x-ratelimit-reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
};

export function finishDocument(doc: OpenAPIObject): OpenAPIObject {
  const out = doc as unknown as Json;
  out.servers = [{ url: '/', description: 'This server' }];
  out.info.license = { name: 'UNLICENSED', url: 'https://opensource.org/licenses' };
  for (const [path, operations] of Object.entries(out.paths as Record<string, Json>)) {
    for (const operation of Object.values(operations) as Json[]) finishOperation(path, operation);
  }
  for (const [name, schema] of Object.entries(out.components.schemas as Record<string, Json>)) finishSchema(name, schema);
  // The base class of the action DTOs is class-transformer's, never a schema of its own.
  if (!JSON.stringify(out).includes('#/components/schemas/ActionDto"')) delete out.components.schemas.ActionDto;
  return doc;
}

function finishOperation(path: string, op: Json): void {
  op.operationId = OPERATION_IDS[op.operationId] ?? op.operationId;
  if (path.startsWith('/health') || path.startsWith('/v1/callbacks')) op.security = [];
  for (const parameter of (op.parameters ?? []) as Json[]) {
    const bounds = INTEGER_PARAMETERS[parameter.name];
    if (bounds && parameter.in !== 'header') parameter.schema = { ...parameter.schema, type: 'integer', ...bounds };
    if (parameter.name === 'status' && parameter.in === 'query') {
      parameter.schema = { type: 'array', items: { type: 'string', enum: Object.values(SagaStatus) } };
      parameter.style = 'form';
      parameter.explode = false;
    }
  }
  for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
    response.headers = { 'X-Request-Id': REQUEST_ID, ...(path.startsWith('/health') ? {} : RATE_LIMIT_HEADERS), ...response.headers };
    if (status === '429') response.headers['Retry-After'] = RETRY_AFTER;
    if (status === '201' && op.operationId === 'registerDefinition') {
      response.headers.Location = { description: 'The new version: /v1/definitions/{name}/versions/{version}', schema: { type: 'string' } };
    }
    const problem = response.content?.['application/problem+json'];
    const codes = PROBLEM_CODES[op.operationId]?.[Number(status)] ?? GENERAL_CODES[Number(status)];
    if (problem && codes) {
      problem.schema = { allOf: [problem.schema, { type: 'object', properties: { code: { type: 'string', enum: codes } } }] };
    }
  }
}

function finishSchema(name: string, schema: Json): void {
  walk(schema, (node) => {
    // A free-form JSON value: any JSON (null included), not an object without properties or a union of such.
    if (node.oneOf && (node.oneOf as Json[]).every(isFreeForm) && (node.oneOf as Json[]).some((m) => m.type === 'object' || !m.type)) {
      delete node.oneOf;
      delete node.type;
      delete node.nullable;
    }
    if (isFreeForm(node) && node.type === 'object') {
      delete node.type;
      delete node.nullable;
    }
    if (node.nullable && !node.type) {
      if (node.oneOf || node.allOf || node.$ref) node.type = 'object';
      else delete node.nullable;
    }
    // class-transformer's @Type adds its base class beside the union: the union alone says it.
    if (node.oneOf && node.discriminator && node.allOf) delete node.allOf;
    if (node.oneOf && node.discriminator && !node.discriminator.mapping) {
      node.discriminator.mapping = Object.fromEntries(
        (node.oneOf as Json[]).filter((m) => m.$ref).map((m) => [ACTION_MEMBERS[String(m.$ref).split('/').pop()!] ?? String(m.$ref).split('/').pop(), m.$ref]),
      );
    }
  });
  const member = ACTION_MEMBERS[name];
  if (member && schema.properties?.type) {
    schema.properties.type = { type: 'string', enum: [member] };
    schema.required = [...new Set(['type', ...(schema.required ?? [])])];
  }
  if (name === 'ProblemSchema' && schema.properties?.sagaStatus) schema.properties.sagaStatus = { ...schema.properties.sagaStatus, type: 'string', enum: Object.values(SagaStatus) };
}

/** An object without properties, an array of anything, or nothing said at all: any JSON. */
function isFreeForm(node: Json): boolean {
  const keys = Object.keys(node).filter((k) => !['description', 'example', 'nullable'].includes(k));
  if (keys.length === 0) return true;
  if (node.type === 'object') return keys.every((k) => k === 'type');
  if (node.type === 'array') return keys.every((k) => k === 'type' || (k === 'items' && Object.keys(node.items).length === 0));
  return ['string', 'number', 'boolean'].includes(node.type) && keys.length === 1;
}

function walk(node: unknown, visit: (node: Json) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
    return;
  }
  if (!node || typeof node !== 'object') return;
  visit(node as Json);
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'example' || key === 'examples') continue;
    walk(value, visit);
  }
}
