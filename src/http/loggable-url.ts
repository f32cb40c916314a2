import type { FastifyRequest } from 'fastify';

/** A callback's token is its credential (SPEC §10): logs show where it went, never the token. */
const CALLBACK_PATH = /^\/v1\/callbacks\/[^/]*/;

/** The request's path as logs may show it: no query string, no callback token. */
export function loggableUrl(request: Pick<FastifyRequest, 'url'>): string {
  return request.url.split('?')[0].replace(CALLBACK_PATH, '/v1/callbacks/{token}');
}
