import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { AppError } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';
import { toIntIfDecimal } from '../common/query-int.js';
import { StartSagaDto } from './dto/start-saga.dto.js';
import { ExecutionsService } from './executions.service.js';
import { SagaRepository } from './saga.repository.js';
import { toEventView, toSagaView, type SagaView } from './saga.view.js';

/** Printable ASCII, as the IETF idempotency-key draft expects of a key. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const EVENTS_PAGE_MAX = 1000;

@Controller('v1/sagas')
export class ExecutionsController {
  constructor(
    private readonly executions: ExecutionsService,
    private readonly sagas: SagaRepository,
  ) {}

  /** 202: the saga is stored and its first step dispatched; it runs on. */
  @Post()
  @HttpCode(202)
  async start(@Body() body: StartSagaDto, @Headers('idempotency-key') idempotencyKey?: string): Promise<SagaView> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw AppError.validation([fieldError(['Idempotency-Key'], 'must be 1-255 printable ASCII characters')]);
    }
    const { saga } = await this.executions.start(body, idempotencyKey ?? null);
    return toSagaView(saga);
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<SagaView> {
    return toSagaView(await this.executions.get(id));
  }

  /** The append-only history of every run, in order; `after` is the last seq already seen. */
  @Get(':id/events')
  async events(@Param('id') id: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    await this.executions.get(id);
    const afterSeq = after === undefined ? 0 : toIntIfDecimal({ value: after });
    const pageSize = limit === undefined ? EVENTS_PAGE_MAX : toIntIfDecimal({ value: limit });
    if (typeof afterSeq !== 'number') throw AppError.validation([fieldError(['after'], 'must be a non-negative integer')]);
    if (typeof pageSize !== 'number' || pageSize < 1 || pageSize > EVENTS_PAGE_MAX) {
      throw AppError.validation([fieldError(['limit'], `must be an integer from 1 to ${EVENTS_PAGE_MAX}`)]);
    }
    const rows = await this.sagas.events(id, afterSeq, pageSize + 1);
    const items = rows.slice(0, pageSize).map(toEventView);
    return { items, nextCursor: rows.length > pageSize ? String(items[items.length - 1].seq) : null };
  }

  /** RUNNING and PAUSED sagas compensate (error.code CANCELLED); 409 otherwise. */
  @Post(':id/cancel')
  @HttpCode(202)
  async cancel(@Param('id') id: string): Promise<SagaView> {
    return toSagaView(await this.executions.cancel(id));
  }
}
