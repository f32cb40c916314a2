import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { toIntIfDecimal } from '../../common/query-int.js';
import { SagaStatus } from '../../engine/statuses.js';
import { SagaFilterFields } from './saga-filter.fields.js';

export const SAGA_STATUSES = Object.values(SagaStatus);
export const SAGA_PAGE_DEFAULT = 50;
export const SAGA_PAGE_MAX = 500;

/** `a,b` → ['a', 'b']; a repeated parameter (`?status=a&status=b`) arrives as an array already. */
const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.split(',').map((v) => v.trim()) : value;

/** Filters of `GET /v1/sagas` (all optional, combined with AND); newest first. */
export class ListSagasQuery extends SagaFilterFields {
  /** One status, or several separated by commas (`RUNNING,PAUSED`). */
  @ApiPropertyOptional({ description: 'One status or several separated by commas', example: 'PAUSED,FAILED' })
  @IsOptional()
  @Transform(toList)
  @IsIn(SAGA_STATUSES, { each: true, message: `must be one or more of ${SAGA_STATUSES.join(', ')}, separated by commas` })
  status?: SagaStatus[];

  @ApiPropertyOptional({ example: 'order-42' })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  correlationId?: string;

  /** Page size. @defaultValue 50 */
  @ApiPropertyOptional({ default: SAGA_PAGE_DEFAULT, minimum: 1, maximum: SAGA_PAGE_MAX })
  @IsOptional()
  @Transform(toIntIfDecimal)
  @Min(1)
  @Max(SAGA_PAGE_MAX)
  @IsInt()
  limit?: number;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({ description: '`nextCursor` of the previous page' })
  @IsOptional()
  @MaxLength(512)
  @IsString()
  cursor?: string;
}
