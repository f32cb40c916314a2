import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { REPLAYABLE_STATUSES } from '../../engine/statuses.js';
import { SagaFilterFields } from './saga-filter.fields.js';

export const BULK_REPLAY_DEFAULT_LIMIT = 1000;
export const BULK_REPLAY_MAX_LIMIT = 10_000;

/** Body of `POST /v1/sagas/replay`: which sagas to replay (filters combine with AND). */
export class BulkReplayDto extends SagaFilterFields {
  /** Statuses to replay; every replayable one (PAUSED, FAILED, COMPENSATED) when omitted. */
  @ApiPropertyOptional({ type: [String], enum: REPLAYABLE_STATUSES, description: 'Every replayable status when omitted', example: ['PAUSED'] })
  @IsOptional()
  @IsIn(REPLAYABLE_STATUSES, { each: true, message: `must list only ${REPLAYABLE_STATUSES.join(', ')}` })
  @IsArray()
  status?: Array<(typeof REPLAYABLE_STATUSES)[number]>;

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
