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
import { fieldError } from '../../common/field-error.js';
import { DEFAULT_RETRY, DEFINITION_NAME_PATTERN, LIMITS, ON_STEP_FAILURE } from '../definition.model.js';
import type { OnStepFailure } from '../definition.model.js';
import { headerMapProblem } from './header-map.validator.js';
import { StepDto } from './step.dto.js';

export class CreateDefinitionDto {
  /** Header maps are kept exactly as sent (see AppValidationPipe); `crossFieldErrors` checks them. */
  static readonly keptAsSent = ['steps.*.action.headers', 'steps.*.compensation.headers'];

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

  @ApiProperty({ type: () => [StepDto], minItems: 1, maxItems: LIMITS.maxSteps })
  @ArrayMinSize(1)
  @ArrayMaxSize(LIMITS.maxSteps)
  @ValidateNested({ each: true })
  @Type(() => StepDto)
  @IsArray()
  steps: StepDto[];

  /**
   * Rules that span fields, checked on the raw body (even when other fields
   * are invalid, so one response lists every error): step names are unique,
   * an explicit maxDelayMs is not below the initial delay, and HTTP actions'
   * header maps are valid.
   */
  static crossFieldErrors(body: unknown): FieldError[] {
    const steps = (body as { steps?: unknown })?.steps;
    if (!Array.isArray(steps) || steps.length > LIMITS.maxSteps) return [];
    const errors: FieldError[] = [];
    const firstIndex = new Map<string, number>();
    steps.forEach((step: unknown, i: number) => {
      if (!step || typeof step !== 'object') return;
      const { name, retry } = step as { name?: unknown; retry?: unknown };
      for (const phase of ['action', 'compensation'] as const) {
        const action = (step as Record<string, unknown>)[phase] as { type?: unknown; headers?: unknown } | undefined;
        if (action?.type !== 'http' || action.headers === undefined) continue;
        const problem = headerMapProblem(action.headers);
        if (problem) errors.push(fieldError(['steps', i, phase, 'headers'], problem));
      }
      if (typeof name === 'string') {
        const first = firstIndex.get(name);
        if (first === undefined) firstIndex.set(name, i);
        else errors.push(fieldError(['steps', i, 'name'], `duplicates the name of steps[${first}]; step names must be unique`));
      }
      if (retry && typeof retry === 'object') {
        const { initialDelayMs, maxDelayMs } = retry as { initialDelayMs?: unknown; maxDelayMs?: unknown };
        const initial = typeof initialDelayMs === 'number' ? initialDelayMs : DEFAULT_RETRY.initialDelayMs;
        if (typeof maxDelayMs === 'number' && maxDelayMs < initial) {
          errors.push(fieldError(['steps', i, 'retry', 'maxDelayMs'], `must be at least initialDelayMs (${initial})`));
        }
      }
    });
    return errors;
  }
}
