import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { FieldError } from '../../common/app-error.js';
import { DEFINITION_NAME_PATTERN, LIMITS, ON_STEP_FAILURE } from '../definition.model.js';
import type { OnStepFailure } from '../definition.model.js';
import { definitionRuleErrors } from './definition-rules.js';
import { StepDto } from './step.dto.js';

export class CreateDefinitionDto {
  /** Header maps and mapped bodies are kept exactly as sent (see AppValidationPipe); `crossFieldErrors` checks them. */
  static readonly keptAsSent = [
    'steps.*.action.headers',
    'steps.*.compensation.headers',
    'steps.*.parallel.*.*.action.headers',
    'steps.*.parallel.*.*.compensation.headers',
    'steps.*.action.body',
    'steps.*.compensation.body',
    'steps.*.parallel.*.*.action.body',
    'steps.*.parallel.*.*.compensation.body',
  ];

  @ApiProperty({ description: 'Registering a name again creates its next version', pattern: DEFINITION_NAME_PATTERN.source, example: 'order-fulfilment' })
  @Matches(DEFINITION_NAME_PATTERN, {
    message: 'must match ^[a-z0-9][a-z0-9._-]{0,99}$ (lower-case letters, digits, ".", "_", "-"; at most 100)',
  })
  @IsString()
  name: string;

  @ApiPropertyOptional({ maxLength: LIMITS.descriptionMaxLength, example: 'Reserve, charge, ship' })
  @IsOptional()
  @MaxLength(LIMITS.descriptionMaxLength)
  @IsString()
  description?: string;

  @ApiPropertyOptional({ description: 'Saga deadline in ms from the start (or a replay); past it, the saga compensates (SAGA_TIMEOUT)', minimum: 1, maximum: LIMITS.sagaTimeoutMaxMs, example: 600000 })
  @IsOptional()
  @Min(1)
  @Max(LIMITS.sagaTimeoutMaxMs)
  @IsInt()
  timeoutMs?: number;

  @ApiPropertyOptional({ enum: ON_STEP_FAILURE, default: 'compensate', description: 'What a step failing for good does: compensate, or pause for a replay' })
  @IsOptional()
  @IsIn(ON_STEP_FAILURE, { message: `must be one of ${ON_STEP_FAILURE.join(', ')}` })
  onStepFailure?: OnStepFailure;

  @ApiProperty({ type: () => [StepDto], minItems: 1, maxItems: LIMITS.maxSteps, description: `Steps and parallel groups, run in this order; at most ${LIMITS.maxSteps} steps in all, a group's included` })
  @ArrayMinSize(1)
  @ArrayMaxSize(LIMITS.maxSteps)
  @ValidateNested({ each: true })
  @Type(() => StepDto)
  @IsArray()
  steps: StepDto[];

  /**
   * Rules that span fields, checked on the raw body (even when other fields
   * are invalid, so one response lists every error): see definitionRuleErrors.
   */
  static crossFieldErrors(body: unknown): FieldError[] {
    return definitionRuleErrors(body);
  }
}
