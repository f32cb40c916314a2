import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, Equals, IsArray, IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { FieldError } from '../../common/app-error.js';
import { fieldError } from '../../common/field-error.js';
import { Omittable } from '../../http/omittable.js';
import { REPLAYABLE_STATUSES, SagaErrorCode } from '../../engine/statuses.js';
import { SagaFilterFields } from './saga-filter.fields.js';

export const BULK_REPLAY_DEFAULT_LIMIT = 1000;
export const BULK_REPLAY_MAX_LIMIT = 10_000;
const ERROR_CODES = Object.values(SagaErrorCode);
/** Stopped by a person or by the deadline: replayed only when `errorCode` names them. */
export const DELIBERATE_STOPS: readonly SagaErrorCode[] = [SagaErrorCode.CANCELLED, SagaErrorCode.SAGA_TIMEOUT];
const FILTERS = ['status', 'definition', 'createdFrom', 'createdTo', 'errorCode'] as const;

/**
 * Body of `POST /v1/sagas/replay`: which sagas to replay (filters combine
 * with AND). At least one filter, or `all: true`: an empty body replays
 * nothing. Sagas a person cancelled or that passed their deadline are left
 * out unless `errorCode` names CANCELLED or SAGA_TIMEOUT.
 */
export class BulkReplayDto extends SagaFilterFields {
  /** Statuses to replay; every replayable one (PAUSED, FAILED, COMPENSATED) when omitted. */
  @ApiPropertyOptional({ type: [String], enum: REPLAYABLE_STATUSES, description: 'Every replayable status when omitted', example: ['PAUSED'] })
  @Omittable()
  @IsIn(REPLAYABLE_STATUSES, { each: true, message: `must list only ${REPLAYABLE_STATUSES.join(', ')}` })
  @ArrayMinSize(1)
  @IsArray()
  status?: Array<(typeof REPLAYABLE_STATUSES)[number]>;

  /** Only sagas whose `error.code` is one of these. CANCELLED and SAGA_TIMEOUT are replayed only when named here. */
  @ApiPropertyOptional({
    type: [String],
    enum: ERROR_CODES,
    description: 'Only sagas with one of these error codes. Cancelled (CANCELLED) and timed-out (SAGA_TIMEOUT) sagas are replayed only when named here',
    example: ['STEP_FAILED'],
  })
  @Omittable()
  @IsIn(ERROR_CODES, { each: true, message: `must list only ${ERROR_CODES.join(', ')}` })
  @ArrayMinSize(1)
  @IsArray()
  errorCode?: SagaErrorCode[];

  /** Required (true) when no filter is given: replay every replayable saga, deliberate stops still left out. */
  @ApiPropertyOptional({ description: 'Must be true to replay without any filter', example: true })
  @Omittable()
  @Equals(true, { message: 'must be true when given' })
  all?: true;

  /** Report what would be replayed without replaying anything. @defaultValue false */
  @ApiPropertyOptional({ default: false, description: 'Report what would be replayed; change nothing' })
  @Omittable()
  @IsBoolean()
  dryRun?: boolean;

  /** Why; kept in each replayed saga's history. */
  @ApiPropertyOptional({ maxLength: 1000, example: 'inventory service fixed' })
  @Omittable()
  @MaxLength(1000)
  @IsString()
  reason?: string;

  /** At most this many sagas per request; `truncated` says when more matched. @defaultValue 1000 */
  @ApiPropertyOptional({ default: 1000, minimum: 1, maximum: BULK_REPLAY_MAX_LIMIT })
  @Omittable()
  @Min(1)
  @Max(BULK_REPLAY_MAX_LIMIT)
  @IsInt()
  limit?: number;

  /** Without a filter, `all: true` must say that everything is meant. */
  static crossFieldErrors(body: unknown): FieldError[] {
    if (!body || typeof body !== 'object') return [];
    const given = body as Record<string, unknown>;
    if (FILTERS.some((f) => given[f] !== undefined) || given.all !== undefined) return [];
    return [fieldError([], `names no filter: give at least one of ${FILTERS.join(', ')}, or "all": true to replay every replayable saga`)];
  }

  /** The error codes left out: the deliberate stops `errorCode` does not name. */
  static excludedErrorCodes(dto: BulkReplayDto): SagaErrorCode[] {
    return DELIBERATE_STOPS.filter((code) => !dto.errorCode?.includes(code));
  }
}
