import { applyDecorators } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiExtraModels, ApiResponse, DocumentBuilder, getSchemaPath, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { ProblemSchema } from './problem.schema.js';
import { finishDocument } from './openapi-finish.js';

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (VALIDATION_FAILED lists every field; MALFORMED_JSON)',
  401: 'No valid API key (UNAUTHENTICATED)',
  403: 'The key lacks the scope this endpoint needs (FORBIDDEN)',
  429: 'Over the per-key rate limit (RATE_LIMITED); see Retry-After',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body over 1 MiB',
  415: 'Body not application/json',
  422: 'Idempotency-Key reused with a different body',
  503: 'Postgres or Redis unavailable; nothing was stored',
};

/** Documents error answers: RFC 9457 problem+json bodies. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemSchema),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemSchema) } } },
      }),
    ),
  );
}

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Saga orchestrator')
    .setDescription(
      'Register saga definitions, trigger executions, inspect their status and history, and replay failed sagas. ' +
        'Errors are RFC 9457 application/problem+json with a stable `code`.',
    )
    .setVersion('1')
    .addTag('definitions', 'Versioned saga definitions')
    .addTag('sagas', 'Executions: trigger, inspect, wait, cancel, replay')
    .addTag('keys', 'API keys and the audit trail (scope keys:admin)')
    .addTag('waits', 'Callbacks and signals: what the outside world answers to a waiting step (SPEC §10)')
    .addTag('health', 'Liveness and readiness')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer sk_…' })
    .build();
  return finishDocument(SwaggerModule.createDocument(app, config));
}

/** Serves the document at /docs (Swagger UI), /docs/openapi.json and /docs/openapi.yaml. */
export function setUpOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
}
