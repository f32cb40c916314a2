import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** The single place where errors become HTTP responses (RFC 9457 problem+json). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), this.logger);
  }
}

function sendProblem(exception: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const { problem, unexpected } = toProblem(exception);
  if (unexpected) {
    logger.error(`${request.method} ${request.url} failed: ${(exception as Error)?.stack ?? String(exception)}`);
  } else if (problem.status >= 500) {
    logger.warn(`${request.method} ${request.url} → ${problem.status} ${problem.code}: ${(exception as Error)?.message}`);
  }
  problem.instance = request.url.split('?')[0];
  void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
}
