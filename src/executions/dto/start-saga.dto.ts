import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DEFINITION_NAME_PATTERN, MAX_VERSION } from '../../definitions/definition.model.js';

export class StartSagaDto {
  /** Free-form JSON, kept exactly as sent (see AppValidationPipe). */
  static readonly keptAsSent = ['input'];

  @ApiProperty({ example: 'order-fulfilment' })
  @Matches(DEFINITION_NAME_PATTERN, { message: 'must be the name of a registered definition' })
  @IsString()
  definition: string;

  /** Definition version to pin; the latest when omitted. */
  @ApiPropertyOptional({ description: 'The latest version when omitted', minimum: 1, maximum: MAX_VERSION, example: 2 })
  @IsOptional()
  @Min(1)
  @Max(MAX_VERSION, { message: `must be at most ${MAX_VERSION}` })
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
