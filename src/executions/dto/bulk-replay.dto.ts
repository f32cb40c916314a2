import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DEFINITION_NAME_PATTERN } from '../../definitions/definition.model.js';
import { SagaStatus } from '../../engine/statuses.js';

export const REPLAYABLE_STATUSES = [SagaStatus.PAUSED, SagaStatus.FAILED, SagaStatus.COMPENSATED] as const;
export const BULK_REPLAY_DEFAULT_LIMIT = 1000;
export const BULK_REPLAY_MAX_LIMIT = 10_000;

/** Body of `POST /v1/sagas/replay`: which sagas to replay (filters combine with AND). */
export class BulkReplayDto {
  /** Statuses to replay; every replayable one (PAUSED, FAILED, COMPENSATED) when omitted. */
  @ApiPropertyOptional({ type: [String], enum: REPLAYABLE_STATUSES, description: 'Every replayable status when omitted', example: ['PAUSED'] })
  @IsOptional()
  @IsIn(REPLAYABLE_STATUSES, { each: true, message: `must list only ${REPLAYABLE_STATUSES.join(', ')}` })
  status?: Array<(typeof REPLAYABLE_STATUSES)[number]>;

  @ApiPropertyOptional({ example: 'order-fulfilment' })
  @IsOptional()
  @Matches(DEFINITION_NAME_PATTERN, { message: 'must be a definition name' })
  @IsString()
  definition?: string;

  /** Created at or after this time (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after', example: '2026-11-23T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 time such as 2026-11-23T10:00:00Z' })
  createdFrom?: string;

  /** Created before this time (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Created before', example: '2026-11-24T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 time such as 2026-11-23T10:00:00Z' })
  createdTo?: string;

  /** Report what would be replayed without replaying anything. @defaultValue false */
  @ApiPropertyOptional({ default: false, description: 'Report what would be replayed; change nothing' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  /** Why; kept in each replayed saga's history. */
  @ApiPropertyOptional({ maxLength: 1000, example: 'inventory service fixed' })
  @IsOptional()
  @MaxLength(1000)
  @IsString()
  reason?: string;

  /** At most this many sagas per request; `truncated` says when more matched. @defaultValue 1000 */
  @ApiPropertyOptional({ default: 1000, minimum: 1, maximum: BULK_REPLAY_MAX_LIMIT })
  @IsOptional()
  @Min(1)
  @Max(BULK_REPLAY_MAX_LIMIT)
  @IsInt()
  limit?: number;
}
