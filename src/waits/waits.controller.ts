import type { FastifyReply, FastifyRequest } from 'fastify';
import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../auth/audit.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { Public, RequireScope, type Principal } from '../auth/scopes.js';
import { tokenHash } from '../executions/waits.js';
import { WaitAnswers } from '../executions/wait-answers.js';
import { ApiProblems } from '../http/openapi.js';
import { CallbackLimits } from './callback-limits.js';
import { CallbackDto, SignalDto } from './dto/answer.dto.js';
import { AnswerReceiptSchema } from './waits.schemas.js';

/**
 * SPEC §10: callbacks (the token is the credential: no API key) and signals
 * (scope `sagas:signal`). 202 when taken, 200 for the same one again.
 */
@ApiTags('waits')
@Controller()
export class WaitsController {
  constructor(
    private readonly answers: WaitAnswers,
    private readonly limits: CallbackLimits,
    private readonly audit: AuditLog,
  ) {}

  @Post('v1/callbacks/:token')
  @Public()
  @ApiOperation({
    summary: 'Complete a callback step\'s attempt',
    description:
      'The token (from the envelope\'s callbackToken or the X-Callback-Token header) is the only credential. 202 when applied; 200 for the same callback again; 404 for an unknown token; 409 CALLBACK_NOT_OUTSTANDING for a different answer or an attempt no longer outstanding. Limited per token and per client address.',
  })
  @ApiParam({ name: 'token', description: 'The attempt\'s callback token' })
  @ApiAcceptedResponse({ type: AnswerReceiptSchema, description: 'Applied (200 with the same body for a repeat)' })
  @ApiProblems(400, 404, 409, 413, 415, 429, 503)
  async callback(@Param('token') token: string, @Body() body: CallbackDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const wait = await this.limits.check(tokenHash(token).toString('hex'), request.ip);
    if (wait) {
      void reply.header('retry-after', String(wait.retryAfterSeconds));
      throw wait;
    }
    const receipt = await this.answers.callback(token, body);
    reply.status(receipt.status);
    return receipt.body;
  }

  @Post('v1/sagas/:id/signals/:signal')
  @HttpCode(202)
  @ApiBearerAuth()
  @RequireScope('sagas:signal')
  @ApiOperation({
    summary: 'Send a signal to a saga',
    description:
      'Durable once 202 is returned. A signal that arrives before its step starts is kept and taken when it starts. 200 for the same body again; 409 SIGNAL_ALREADY_RECEIVED for another body; 409 SIGNAL_NOT_EXPECTED when no step waits for it or the saga is done; 404 for an unknown saga.',
  })
  @ApiParam({ name: 'id', description: 'Saga id' })
  @ApiParam({ name: 'signal', description: 'The signal name a step of the saga waits for', example: 'manager-approval' })
  @ApiAcceptedResponse({ type: AnswerReceiptSchema })
  @ApiOkResponse({ type: AnswerReceiptSchema, description: 'The same signal again' })
  @ApiProblems(400, 401, 403, 404, 409, 429, 503)
  async signal(@Param('id') id: string, @Param('signal') signal: string, @Body() body: SignalDto, @CurrentPrincipal() by: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const receipt = await this.answers.signal(id, signal, body);
    if (receipt.status === 202) await this.audit.record(by.name, 'saga.signal', id, { signal, status: body.status });
    reply.status(receipt.status);
    return receipt.body;
  }
}
