import { IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { DEFINITION_NAME_PATTERN } from '../../definitions/definition.model.js';

export class StartSagaDto {
  @Matches(DEFINITION_NAME_PATTERN, { message: 'must be the name of a registered definition' })
  @IsString()
  definition: string;

  /** Definition version to pin; the latest when omitted. */
  @IsOptional()
  @Min(1)
  @IsInt()
  version?: number;

  /** Any JSON value, at most 256 KiB; `{}` when omitted. */
  @IsOptional()
  input?: unknown;

  @IsOptional()
  @MaxLength(200)
  @IsString()
  correlationId?: string;
}
