import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '../common/app-error.js';
import { RouteMethods } from './http-errors.js';
import { checkParameters, parseJsonBody } from './json-body.js';
import { ProblemFilter } from './problem.filter.js';
import { AppValidationPipe } from './validation.js';

/** Bodies above this size are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The longest path parameter (an id, a name) the router passes to a handler; longer gets 414. */
export const MAX_PATH_SEGMENT = 1_000;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Filters, pipes and hooks shared by the server and the tests that boot it. */
export function setUpHttp(app: NestFastifyApplication): void {
  const routes = new RouteMethods();
  app.getHttpAdapter().getInstance().addHook('onRoute', (route) => routes.add(route.method, route.url));
  app.useGlobalFilters(new ProblemFilter(routes));
  app.useGlobalPipes(new AppValidationPipe());
  app.useBodyParser('application/json', { bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    let parsed: unknown;
    try {
      parsed = parseJsonBody(body);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, parsed);
  });
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
    })
    .addHook('preValidation', async (request) => {
      checkParameters('path', request.params);
      checkParameters('query', request.query);
    });
}
