import { NestFactory } from '@nestjs/core';
import { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { loggableUrl } from './http/loggable-url.js';
import { randomUUID } from 'node:crypto';
import type { Logger as Pino } from 'pino';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { AppConfig } from './config/app-config.js';
import { createPino, PinoNestLogger } from './logging/pino-logger.js';
import { Metrics } from './metrics/metrics.js';
import { BODY_LIMIT_BYTES, MAX_PATH_SEGMENT, setUpHttp } from './http/http-setup.js';
import { setUpBullBoard } from './http/bull-board.js';
import { setUpDashboard } from './http/dashboard.js';
import { setUpOpenApi } from './http/openapi.js';
import { setUpRateLimit } from './http/rate-limit.js';
import { clientErrorHandler } from './http/http-errors.js';
import { sendProblem } from './http/problem.filter.js';

/** Builds the whole application for a config; used by main.ts and by the e2e tests. */
export async function createApp(config: AppConfig, logger: Pino = createPino(config.logLevel)): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forConfig(config),
    new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      loggerInstance: logger,
      // One line per request at debug level (below), not Fastify's two at info.
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
      // A caller's X-Request-Id is kept (and echoed); otherwise one is made.
      requestIdHeader: 'x-request-id',
      genReqId: () => randomUUID(),
      // Every error is problem+json, also those raised before a route runs:
      // the router's (bad percent-escape, over-long path segment) and Node's parser's.
      // Path segments up to 1,000 characters reach the handlers, so an over-long id is an
      // unknown saga (404), not a router error; longer ones get 414 problem+json.
      routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendProblem(error, request, reply),
      clientErrorHandler,
      // A request must arrive in full within this time (a stalled body gets 408); checked every second.
      // Node applies it only when given to the server's constructor (http); Fastify sets it again, to the same value.
      requestTimeout: config.requestTimeoutMs,
      http: { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: 1_000 },
    }),
    { logger: new PinoNestLogger(logger), abortOnError: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  const metrics = app.get(Metrics);
  fastify.addHook('onResponse', async (request, reply) => {
    // The route template keeps the label set bounded (/v1/sagas/:id, never an id).
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpSeconds.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    request.log.debug({ method: request.method, url: loggableUrl(request), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  setUpHttp(app);
  if (config.servesApi) {
    const closeRateLimit = await setUpRateLimit(app, config);
    app.getHttpAdapter().getInstance().addHook('onClose', closeRateLimit);
    setUpOpenApi(app);
    await setUpBullBoard(app, config);
    await setUpDashboard(app, config);
  }
  return app;
}
