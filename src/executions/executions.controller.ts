import type { FastifyRequest } from 'fastify';
import { Body, Controller, createParamDecorator, ExecutionContext, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../auth/audit.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RequireScope, type Principal } from '../auth/scopes.js';
import { AppError } from '../common/app-error.js';
import { ApiProblems } from '../http/openapi.js';
import { fieldError } from '../common/field-error.js';
import { toIntIfDecimal } from '../common/query-int.js';
import { REPLAYABLE_STATUSES } from '../engine/statuses.js';
import { BULK_REPLAY_DEFAULT_LIMIT, BulkReplayDto } from './dto/bulk-replay.dto.js';
import { ListSagasQuery, SAGA_PAGE_DEFAULT } from './dto/list-sagas.query.js';
import { CancelSagaDto } from './dto/cancel-saga.dto.js';
import { ReplaySagaDto } from './dto/replay-saga.dto.js';
import { StartSagaDto } from './dto/start-saga.dto.js';
import { BulkReplayReport, ExecutionsService } from './executions.service.js';
import { MAX_WAIT_MS, SagaQueriesService } from './saga-queries.service.js';
import { SagaReads } from './saga-reads.js';
import { BulkReplayReportSchema, EventPageSchema, SagaPageSchema, SagaSchema } from './saga.schemas.js';
import { toEventView, toSagaView, type SagaSummaryView, type SagaView } from './saga.view.js';
import type { SagaRecord } from './saga.records.js';
import { DefinitionCache } from '../definitions/definition-cache.js';

/** Printable ASCII, as the IETF idempotency-key draft expects of a key. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The Idempotency-Key header. Read from the request rather than with
 * `@Headers()`, which the OpenAPI document would list as a second, required
 * `idempotency-key` parameter next to the one @ApiHeader documents.
 */
const IdempotencyKey = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined => {
  const value = ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
  return Array.isArray(value) ? value.join(', ') : value;
});
const EVENTS_PAGE_MAX = 1000;

const SAGA_ID = { name: 'id', description: 'Saga id', example: '0b6f2d4e-9f7a-4c55-8c1e-3f2a7d9e1b20' };
const WAIT_MS = {
  name: 'waitMs',
  required: false,
  description: `Wait up to this many ms (at most ${MAX_WAIT_MS}) for the saga to be terminal, PAUSED or FAILED; then answer with its state`,
  example: 5000,
};

@ApiTags('sagas')
@ApiBearerAuth()
@ApiProblems(401, 403, 429)
@Controller('v1/sagas')
export class ExecutionsController {
  constructor(
    private readonly executions: ExecutionsService,
    private readonly queries: SagaQueriesService,
    private readonly reads: SagaReads,
    private readonly audit: AuditLog,
    private readonly definitions: DefinitionCache,
  ) {}

  /** The saga as SPEC §4 shows it, each step placed by its definition (kind, group, branch). */
  private async view(saga: SagaRecord): Promise<SagaView> {
    return toSagaView(saga, await this.definitions.get(saga.definitionName, saga.definitionVersion));
  }

  /** 202: the saga is stored and its first step dispatched; with `waitMs`, answers once it settles or the time is up. */
  @Post()
  @HttpCode(202)
  @RequireScope('sagas:write')
  @ApiOperation({ summary: 'Start a saga', description: 'Durable once 202 is returned. The same Idempotency-Key and body return the same saga.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1-255 printable ASCII characters', example: '7d3c9a1e-order-42' })
  @ApiQuery(WAIT_MS)
  @ApiAcceptedResponse({ type: SagaSchema, description: 'The saga (after waitMs: as it then is)' })
  @ApiProblems(400, 404, 409, 413, 415, 422, 503)
  async start(
    @Body() body: StartSagaDto,
    @IdempotencyKey() idempotencyKey?: string,
    @Query('waitMs') waitMs?: string,
  ): Promise<SagaView> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw AppError.validation([fieldError(['Idempotency-Key'], 'must be 1-255 printable ASCII characters')]);
    }
    const wait = parseWaitMs(waitMs);
    const { saga } = await this.executions.start(body, idempotencyKey ?? null);
    return this.view(wait > 0 ? await this.queries.waitSettled(saga.id, wait) : saga);
  }

  /** Newest first; filters combine with AND; `nextCursor` continues the list. */
  @Get()
  @RequireScope('sagas:read')
  @ApiOperation({ summary: 'List sagas, newest first', description: 'Filters combine with AND; keyset pagination with `cursor` stays stable while sagas are added.' })
  @ApiOkResponse({ type: SagaPageSchema })
  @ApiProblems(400, 503)
  async list(@Query() query: ListSagasQuery): Promise<{ items: SagaSummaryView[]; nextCursor: string | null }> {
    const filter = {
      statuses: query.status,
      definition: query.definition,
      correlationId: query.correlationId,
      createdFrom: query.createdFrom ? new Date(query.createdFrom) : undefined,
      createdTo: query.createdTo ? new Date(query.createdTo) : undefined,
    };
    return this.queries.list(filter, query.cursor, query.limit ?? SAGA_PAGE_DEFAULT);
  }

  /** Replays every PAUSED, FAILED or COMPENSATED saga that matches (SPEC §5), or with `dryRun` reports which would be. */
  @Post('replay')
  @HttpCode(200)
  @RequireScope('sagas:replay')
  @ApiOperation({
    summary: 'Replay every matching saga',
    description:
      'PAUSED, FAILED and COMPENSATED sagas matching the filter, newest first, in batches; `dryRun` changes nothing. At least one filter, or `all: true`. Cancelled and timed-out sagas are left out unless `errorCode` names CANCELLED or SAGA_TIMEOUT.',
  })
  @ApiOkResponse({ type: BulkReplayReportSchema })
  @ApiProblems(400, 503)
  async bulkReplay(@Body() body: BulkReplayDto, @CurrentPrincipal() by: Principal): Promise<BulkReplayReport> {
    const filter = {
      statuses: body.status?.length ? body.status : [...REPLAYABLE_STATUSES],
      definition: body.definition,
      createdFrom: body.createdFrom ? new Date(body.createdFrom) : undefined,
      createdTo: body.createdTo ? new Date(body.createdTo) : undefined,
      errorCodes: body.errorCode,
      excludeErrorCodes: BulkReplayDto.excludedErrorCodes(body),
    };
    const report = await this.executions.bulkReplay(filter, {
      dryRun: body.dryRun ?? false,
      reason: body.reason ?? null,
      by: by.name,
      limit: body.limit ?? BULK_REPLAY_DEFAULT_LIMIT,
    });
    if (!report.dryRun) {
      await this.audit.record(by.name, 'sagas.bulk-replay', JSON.stringify(filter), { reason: body.reason ?? null, replayed: report.replayed, skipped: report.skipped });
    }
    return report;
  }

  /** With `waitMs`, answers once the saga is settled (terminal, PAUSED or FAILED) or the time is up. */
  @Get(':id')
  @RequireScope('sagas:read')
  @ApiOperation({ summary: 'A saga with every step (SPEC §4)', description: 'With `waitMs`, answers as soon as the saga is terminal, PAUSED or FAILED, or when the time is up (then as it is).' })
  @ApiParam(SAGA_ID)
  @ApiQuery(WAIT_MS)
  @ApiOkResponse({ type: SagaSchema })
  @ApiProblems(400, 404, 503)
  async get(@Param('id') id: string, @Query('waitMs') waitMs?: string): Promise<SagaView> {
    const wait = parseWaitMs(waitMs);
    return this.view(wait > 0 ? await this.queries.waitSettled(id, wait) : await this.executions.get(id));
  }

  /** The append-only history of every run, in order; `after` is the last seq already seen. */
  @Get(':id/events')
  @RequireScope('sagas:read')
  @ApiOperation({ summary: 'The history of every run, in order', description: 'Append-only events with gapless `seq`; `after` (the last seq seen) and `limit` page through them.' })
  @ApiParam(SAGA_ID)
  @ApiQuery({ name: 'after', required: false, description: 'The last seq already seen (`nextCursor`)', example: 0 })
  @ApiQuery({ name: 'limit', required: false, description: `1-${EVENTS_PAGE_MAX}`, example: 100 })
  @ApiOkResponse({ type: EventPageSchema })
  @ApiProblems(400, 404, 503)
  async events(@Param('id') id: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    const afterSeq = after === undefined ? 0 : toIntIfDecimal({ value: after });
    const pageSize = limit === undefined ? EVENTS_PAGE_MAX : toIntIfDecimal({ value: limit });
    if (typeof afterSeq !== 'number') throw AppError.validation([fieldError(['after'], 'must be a non-negative integer')]);
    if (typeof pageSize !== 'number' || pageSize < 1 || pageSize > EVENTS_PAGE_MAX) {
      throw AppError.validation([fieldError(['limit'], `must be an integer from 1 to ${EVENTS_PAGE_MAX}`)]);
    }
    await this.executions.get(id);
    const rows = await this.reads.events(id, afterSeq, pageSize + 1);
    const items = rows.slice(0, pageSize).map(toEventView);
    return { items, nextCursor: rows.length > pageSize ? String(items[items.length - 1].seq) : null };
  }

  /** RUNNING and PAUSED sagas compensate (error.code CANCELLED); 409 otherwise. */
  @Post(':id/cancel')
  @HttpCode(202)
  @RequireScope('sagas:write')
  @ApiOperation({ summary: 'Cancel a RUNNING or PAUSED saga', description: 'It compensates with error.code CANCELLED (a RUNNING one once its step in flight ends).' })
  @ApiParam(SAGA_ID)
  @ApiAcceptedResponse({ type: SagaSchema })
  @ApiProblems(400, 404, 409, 503)
  async cancel(@Param('id') id: string, @Body() body: CancelSagaDto, @CurrentPrincipal() by: Principal): Promise<SagaView> {
    const saga = await this.executions.cancel(id, { by: by.name, reason: body.reason ?? null });
    await this.audit.record(by.name, 'saga.cancel', id, { reason: body.reason ?? null });
    return this.view(saga);
  }

  /** SPEC §5: PAUSED and FAILED resume, COMPENSATED starts a new run; 409 otherwise or when another replay won. */
  @Post(':id/replay')
  @HttpCode(202)
  @RequireScope('sagas:replay')
  @ApiOperation({
    summary: 'Replay a PAUSED, FAILED or COMPENSATED saga (SPEC §5)',
    description: 'PAUSED: the failed step again, fresh budget. FAILED: the failed compensation again, then on in reverse. COMPENSATED: a new run. Of concurrent replays one wins; the others get 409.',
  })
  @ApiParam(SAGA_ID)
  @ApiAcceptedResponse({ type: SagaSchema })
  @ApiProblems(400, 404, 409, 503)
  async replay(@Param('id') id: string, @Body() body: ReplaySagaDto, @CurrentPrincipal() by: Principal): Promise<SagaView> {
    const saga = await this.executions.replay(id, { input: body.input, reason: body.reason ?? null, by: by.name });
    await this.audit.record(by.name, 'saga.replay', id, { reason: body.reason ?? null, run: saga.run, newInput: body.input !== undefined });
    return this.view(saga);
  }
}

function parseWaitMs(value: string | undefined): number {
  if (value === undefined) return 0;
  const ms = toIntIfDecimal({ value });
  if (typeof ms !== 'number' || ms > MAX_WAIT_MS) {
    throw AppError.validation([fieldError(['waitMs'], `must be an integer from 0 to ${MAX_WAIT_MS}`)]);
  }
  return ms;
}
