import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsString, Matches } from 'class-validator';
import { DEFINITION_NAME_PATTERN } from '../../definitions/definition.model.js';
import { Omittable } from '../../http/omittable.js';

const ISO_TIME = { message: 'must be an ISO 8601 time such as 2026-11-23T10:00:00Z' };

/** Filters shared by the saga list and bulk replay (all optional, combined with AND). */
export class SagaFilterFields {
  @ApiPropertyOptional({ example: 'order-fulfilment' })
  @Omittable()
  @Matches(DEFINITION_NAME_PATTERN, { message: 'must be a definition name' })
  @IsString()
  definition?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after', example: '2026-11-23T00:00:00Z' })
  @Omittable()
  @IsISO8601({ strict: true }, ISO_TIME)
  createdFrom?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created before', example: '2026-11-24T00:00:00Z' })
  @Omittable()
  @IsISO8601({ strict: true }, ISO_TIME)
  createdTo?: string;
}
