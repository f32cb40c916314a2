import { LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { AppConfig, LogLevel } from './config/app-config.js';
import { BODY_LIMIT_BYTES, setUpHttp } from './http/http-setup.js';
import { setUpOpenApi } from './http/openapi.js';
import { setUpRateLimit } from './http/rate-limit.js';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** Builds the whole application for a config; used by main.ts and by the e2e tests. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forConfig(config),
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    { logger: NEST_LEVELS[config.logLevel], abortOnError: false },
  );
  setUpHttp(app);
  if (config.servesApi) {
    const closeRateLimit = await setUpRateLimit(app, config);
    app.getHttpAdapter().getInstance().addHook('onClose', closeRateLimit);
    setUpOpenApi(app);
  }
  return app;
}
