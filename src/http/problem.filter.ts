import { ArgumentsHost, Catch, ExceptionFilter, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loggableUrl } from './loggable-url.js';
import { ErrorCode } from '../common/app-error.js';
import { drainRequestBody, RouteMethods } from './http-errors.js';
import { PROBLEM_CONTENT_TYPE, problemOf, toProblem } from './problem.js';

/** The single place where errors become HTTP responses (RFC 9457 problem+json). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly routes?: RouteMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), this.routes);
  }
}

/** Also used for the errors Fastify's router raises before any route runs (see app.factory). */
export function sendProblem(exception: unknown, request: FastifyRequest, reply: FastifyReply, routes?: RouteMethods): void {
  let { problem, unexpected } = toProblem(exception);
  // request.log carries the request id (reqId); the URL is logged without its query string (or a callback token).
  const url = loggableUrl(request);
  if (unexpected) {
    request.log.error({ err: exception, method: request.method, url, context: 'http' }, `${request.method} ${url} failed`);
  } else if (problem.status >= 500) {
    request.log.warn({ method: request.method, url, status: problem.status, code: problem.code, context: 'http' }, (exception as Error)?.message ?? String(exception));
  }
  // No route matched: a path that exists for other methods only is a wrong method, not a missing route.
  // (A route that matched and found nothing, such as a missing file under /ui/, stays a 404.)
  const allowed = exception instanceof NotFoundException && request.routeOptions?.url === undefined ? (routes?.allowed(request.url.split('?')[0]) ?? []) : [];
  if (allowed.length > 0 && !allowed.includes(request.method)) {
    problem = problemOf(ErrorCode.METHOD_NOT_ALLOWED, `${request.method} is not allowed on ${url}; it answers ${allowed.join(', ')}.`, { allowed });
    void reply.header('allow', allowed.join(', '));
  }
  problem.instance = url;
  const send = () => void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  // A body refused for its size is read to its end first, so the client sees the 413 rather than a reset.
  if (problem.status === 413) void drainRequestBody(request.raw).then(send);
  else send();
}
