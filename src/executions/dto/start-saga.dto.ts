import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { DEFINITION_NAME_PATTERN } from '../../definitions/definition.model.js';

export class StartSagaDto {
  @ApiProperty({ example: 'order-fulfilment' })
  @Matches(DEFINITION_NAME_PATTERN, { message: 'must be the name of a registered definition' })
  @IsString()
  definition: string;

  /** Definition version to pin; the latest when omitted. */
  @ApiPropertyOptional({ description: 'The latest version when omitted', minimum: 1, example: 2 })
  @IsOptional()
  @Min(1)
  @IsInt()
  version?: number;

  /** Any JSON value, at most 256 KiB; `{}` when omitted. */
  @ApiPropertyOptional({ description: 'Any JSON value, at most 256 KiB; {} when omitted', example: { orderId: 42 } })
  @IsOptional()
  input?: unknown;

  @ApiPropertyOptional({ maxLength: 200, description: 'Your own id to find the saga by', example: 'order-42' })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  correlationId?: string;
}
