import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorize, presentedKey } from '../auth/auth.guard.js';
import { ApiKeysService } from '../auth/api-keys.service.js';
import { AppError } from '../common/app-error.js';
import type { AppConfig } from '../config/app-config.js';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { STEPS_QUEUE, TIMERS_QUEUE } from '../dispatch/step-job.js';
import { RESULTS_QUEUE } from '../participant/protocol.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from './problem.js';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The key of a request to the board: as for the API, or as the password of
 * HTTP Basic authentication, so a browser can open the board (it asks once).
 */
function boardKey(request: FastifyRequest): string | null {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return presentedKey(request);
}

/** Bull Board (the BullMQ dashboard) at /admin/queues, for keys with the keys:admin scope. */
export async function setUpBullBoard(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const publisher = app.get(JobPublisher);
  const keys = app.get(ApiKeysService);
  const board = new BullBoardFastifyAdapter();
  board.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [STEPS_QUEUE, TIMERS_QUEUE, RESULTS_QUEUE].map((name) => new BullMQAdapter(publisher.queue(name), { readOnlyMode: false })),
    serverAdapter: board,
  });
  const plugin = async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (config.authDisabled) return;
      try {
        await authorize(keys, boardKey(request), 'keys:admin');
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const problem = problemOf(error.code, error.message, error.details);
        return reply
          .status(problem.status)
          .header('www-authenticate', 'Basic realm="saga orchestrator queues", charset="UTF-8"')
          .header('content-type', PROBLEM_CONTENT_TYPE)
          .send({ ...problem, instance: BULL_BOARD_PATH });
      }
    });
    await scope.register(board.registerPlugin() as never);
  };
  await app.register(plugin as never, { prefix: BULL_BOARD_PATH });
}
