import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** The single place where errors become HTTP responses (RFC 9457 problem+json). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>());
  }
}

function sendProblem(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { problem, unexpected } = toProblem(exception);
  // request.log carries the request id (reqId); the URL is logged without its query string.
  const url = request.url.split('?')[0];
  if (unexpected) {
    request.log.error({ err: exception, method: request.method, url, context: 'http' }, `${request.method} ${url} failed`);
  } else if (problem.status >= 500) {
    request.log.warn({ method: request.method, url, status: problem.status, code: problem.code, context: 'http' }, (exception as Error)?.message ?? String(exception));
  }
  problem.instance = request.url.split('?')[0];
  void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
}
