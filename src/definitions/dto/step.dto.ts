import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import { LIMITS, STEP_NAME_PATTERN } from '../definition.model.js';
import { ACTION_TYPE_OPTIONS, ActionDto } from './action.dto.js';
import { RetryPolicyDto } from './retry-policy.dto.js';

export class StepDto {
  @Matches(STEP_NAME_PATTERN, { message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  @IsString()
  name: string;

  @ValidateNested()
  @Type(() => ActionDto, ACTION_TYPE_OPTIONS)
  @IsDefined()
  @IsObject()
  action: ActionDto;

  @IsOptional()
  @ValidateNested()
  @Type(() => ActionDto, ACTION_TYPE_OPTIONS)
  @IsObject()
  compensation?: ActionDto;

  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  @IsObject()
  retry?: RetryPolicyDto;

  @IsOptional()
  @Min(1)
  @Max(LIMITS.stepTimeoutMaxMs)
  @IsInt()
  timeoutMs?: number;
}
