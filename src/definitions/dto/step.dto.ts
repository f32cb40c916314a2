import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import { LIMITS, STEP_NAME_PATTERN } from '../definition.model.js';
import { ACTION_TYPE_OPTIONS, ActionDto, HttpActionDto, QueueActionDto } from './action.dto.js';
import { RetryPolicyDto } from './retry-policy.dto.js';

@ApiExtraModels(HttpActionDto, QueueActionDto)
export class StepDto {
  @ApiProperty({ pattern: STEP_NAME_PATTERN.source, example: 'charge-payment' })
  @Matches(STEP_NAME_PATTERN, { message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  @IsString()
  name: string;

  @ApiProperty({ oneOf: [{ $ref: getSchemaPath(HttpActionDto) }, { $ref: getSchemaPath(QueueActionDto) }], discriminator: { propertyName: 'type' } })
  @ValidateNested()
  @Type(() => ActionDto, ACTION_TYPE_OPTIONS)
  @IsDefined()
  @IsObject()
  action: ActionDto;

  @ApiPropertyOptional({
    description: 'Undoes the action; a step without one is skipped when compensating',
    oneOf: [{ $ref: getSchemaPath(HttpActionDto) }, { $ref: getSchemaPath(QueueActionDto) }],
    discriminator: { propertyName: 'type' },
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ActionDto, ACTION_TYPE_OPTIONS)
  @IsObject()
  compensation?: ActionDto;

  @ApiPropertyOptional({ type: () => RetryPolicyDto, description: 'Also applies to the compensation' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  @IsObject()
  retry?: RetryPolicyDto;

  @ApiPropertyOptional({ description: 'Timeout of each attempt in ms', default: 10000, minimum: 1, maximum: LIMITS.stepTimeoutMaxMs })
  @IsOptional()
  @Min(1)
  @Max(LIMITS.stepTimeoutMaxMs)
  @IsInt()
  timeoutMs?: number;
}
