import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import { LIMITS, STEP_KINDS, STEP_NAME_PATTERN } from '../definition.model.js';
import type { StepKind } from '../definition.model.js';
import { ACTION_TYPE_OPTIONS, ActionDto, HttpActionDto, QueueActionDto, SignalActionDto } from './action.dto.js';
import { RetryPolicyDto } from './retry-policy.dto.js';

/**
 * A top-level item of a definition: a step (with an action), or a parallel
 * group (a name and `parallel`, SPEC §8). A group's branches hold steps of
 * the same shape; that they are not groups themselves, and the rules that
 * span steps (unique names, kinds, the step limit), are checked by
 * CreateDefinitionDto.crossFieldErrors, so every error is reported at once.
 */
@ApiExtraModels(HttpActionDto, QueueActionDto, SignalActionDto)
export class StepDto {
  @ApiProperty({ pattern: STEP_NAME_PATTERN.source, example: 'charge-payment' })
  @Matches(STEP_NAME_PATTERN, { message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  @IsString()
  name: string;

  @ApiPropertyOptional({
    description: 'Required for a step; a group has `parallel` instead',
    oneOf: [{ $ref: getSchemaPath(HttpActionDto) }, { $ref: getSchemaPath(QueueActionDto) }, { $ref: getSchemaPath(SignalActionDto) }],
    discriminator: { propertyName: 'type' },
  })
  @ValidateIf((step: StepDto) => step.parallel === undefined)
  @ValidateNested()
  @Type(() => ActionDto, ACTION_TYPE_OPTIONS)
  @IsDefined({ message: 'is required (a step has an action; a group has `parallel` instead)' })
  @IsObject()
  action?: ActionDto;

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

  @ApiPropertyOptional({
    description: `Timeout of each attempt in ms, from its dispatch (for a callback step, to its callback; for a signal step, to the signal). At most ${LIMITS.stepTimeoutMaxMs} (a day); ${LIMITS.waitTimeoutMaxMs} (30 days) for callback and signal steps`,
    default: 10000,
    minimum: 1,
    maximum: LIMITS.waitTimeoutMaxMs,
  })
  @IsOptional()
  @Min(1)
  @Max(LIMITS.waitTimeoutMaxMs)
  @IsInt()
  timeoutMs?: number;

  @ApiPropertyOptional({
    enum: STEP_KINDS,
    default: 'compensatable',
    description:
      'SPEC §9. pivot: the point of no return (at most one, top level, no compensation); retriable: after it, only goes forward (no compensation, unlimited attempts by default)',
  })
  @IsOptional()
  @IsIn(STEP_KINDS, { message: `must be one of ${STEP_KINDS.join(', ')}` })
  kind?: StepKind;

  @ApiPropertyOptional({
    description: `A parallel group (SPEC §8) instead of an action: ${LIMITS.minBranches}-${LIMITS.maxBranches} branches, each a list of steps run in order; the branches run at once. Groups do not nest.`,
    type: 'array',
    items: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/StepDto' } },
    minItems: LIMITS.minBranches,
    maxItems: LIMITS.maxBranches,
  })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => StepDto)
  @ArrayMinSize(LIMITS.minBranches, { message: `must have at least ${LIMITS.minBranches} branches` })
  @ArrayMaxSize(LIMITS.maxBranches, { message: `must have at most ${LIMITS.maxBranches} branches` })
  @IsArray()
  parallel?: StepDto[][];
}
