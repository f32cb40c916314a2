import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../common/app-error.js';
import type { AppConfig } from '../config/app-config.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from './problem.js';

export const DASHBOARD_PATH = '/ui';

/**
 * Where `vite build` put the dashboard (ui/ → dist/ui): next to dist/src when
 * running the build, under the project root when running the sources (tests).
 * A folder counts only with its index.html and assets/, so ui/ (the sources)
 * is never served.
 */
export function findDashboardBuild(here = path.dirname(fileURLToPath(import.meta.url))): string | null {
  const candidates = [path.resolve(here, '../../dist/ui'), path.resolve(here, '../../ui')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, 'assets'))) ?? null;
}

/**
 * The operators' dashboard at /ui: static files, open to anyone (they hold no
 * data; every API call the page makes needs a key). Hashed assets are cached
 * for good, index.html never, so a new build shows at the next load.
 */
export async function setUpDashboard(app: NestFastifyApplication, config: AppConfig, root = findDashboardBuild()): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.get(DASHBOARD_PATH, (_request, reply) => reply.redirect(`${DASHBOARD_PATH}/`, 302));
  // Whether to ask for a key: the page asks for one only when the API needs it.
  fastify.get(`${DASHBOARD_PATH}/config.json`, (_request, reply) => reply.header('cache-control', 'no-store').send({ authRequired: !config.authDisabled }));
  if (!root) {
    const notBuilt = problemOf(ErrorCode.SERVICE_UNAVAILABLE, 'The dashboard is not built: run `npm run build` (scripts/start.sh does it), then reload.');
    fastify.get(`${DASHBOARD_PATH}/*`, (_request, reply) => reply.status(notBuilt.status).header('content-type', PROBLEM_CONTENT_TYPE).send(notBuilt));
    return;
  }
  await app.register(fastifyStatic as never, {
    root,
    prefix: `${DASHBOARD_PATH}/`,
    decorateReply: false,
    index: ['index.html'],
    // @fastify/static passes the Fastify reply here.
    setHeaders: (reply: { header(name: string, value: string): unknown }, file: string) => {
      const immutable = file.includes(`${path.sep}assets${path.sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
