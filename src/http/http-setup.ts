import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '../common/app-error.js';
import { ProblemFilter } from './problem.filter.js';
import { AppValidationPipe } from './validation.js';

/** Bodies above this size are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Filters, pipes and hooks shared by the server and the tests that boot it. */
export function setUpHttp(app: NestFastifyApplication): void {
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(new AppValidationPipe());
  // The API speaks JSON only: a body of any other type is refused before parsing
  // (Fastify would otherwise parse text/plain and forms).
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request) => {
      const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
      if (hasBody && !JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? '')) {
        throw new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Send the request body as application/json.');
      }
    });
}
