import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { BACKOFFS, HTTP_METHODS, LIMITS, ON_STEP_FAILURE, STEP_KINDS } from './definition.model.js';

/**
 * OpenAPI schemas of definition responses, with every default filled in
 * (documentation only; definition.view.ts produces the bodies, and a test
 * checks real bodies against these).
 */
export class HttpActionSchema {
  @ApiProperty({ enum: ['http'] })
  type: 'http';

  @ApiProperty({ enum: HTTP_METHODS, example: 'POST' })
  method: string;

  @ApiProperty({ format: 'uri', example: 'https://payments.internal/charges' })
  url: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { 'x-team': 'shop' } })
  headers: Record<string, string>;

  @ApiProperty({ enum: ['callback'], required: false, description: 'Present for callback steps (SPEC §10)' })
  completion?: 'callback';

  @ApiProperty({ required: false, description: 'The mapped body sent instead of the envelope (SPEC §11), as registered' })
  body?: unknown;
}

export class SignalActionSchema {
  @ApiProperty({ enum: ['signal'] })
  type: 'signal';

  @ApiProperty({ example: 'manager-approval' })
  signal: string;
}

export class QueueActionSchema {
  @ApiProperty({ enum: ['queue'] })
  type: 'queue';

  @ApiProperty({ example: 'payments' })
  queue: string;

  @ApiProperty({ example: 'charge' })
  task: string;
}

export class RetryPolicySchema {
  @ApiProperty({ example: 3 })
  maxAttempts: number;

  @ApiProperty({ enum: BACKOFFS, example: 'exponential' })
  backoff: string;

  @ApiProperty({ example: 100 })
  initialDelayMs: number;

  @ApiProperty({ example: 10000 })
  maxDelayMs: number;
}

const ACTION = {
  oneOf: [{ $ref: getSchemaPath(HttpActionSchema) }, { $ref: getSchemaPath(QueueActionSchema) }, { $ref: getSchemaPath(SignalActionSchema) }],
  discriminator: { propertyName: 'type' },
};

@ApiExtraModels(HttpActionSchema, QueueActionSchema, SignalActionSchema)
export class StepSpecSchema {
  @ApiProperty({ example: 'charge-payment' })
  name: string;

  @ApiProperty({ enum: STEP_KINDS, example: 'compensatable', description: 'SPEC §9: compensatable, pivot (the point of no return) or retriable' })
  kind: string;

  @ApiProperty(ACTION)
  action: HttpActionSchema | QueueActionSchema;

  @ApiProperty({ ...ACTION, nullable: true })
  compensation: HttpActionSchema | QueueActionSchema | null;

  @ApiProperty({ type: RetryPolicySchema })
  retry: RetryPolicySchema;

  @ApiProperty({ example: 10000 })
  timeoutMs: number;
}

/** SPEC §8: a parallel group, as stored: its branches' steps with every default filled in. */
export class GroupSpecSchema {
  @ApiProperty({ example: 'prepare-shipment' })
  name: string;

  @ApiProperty({
    type: 'array',
    minItems: LIMITS.minBranches,
    maxItems: LIMITS.maxBranches,
    items: { type: 'array', minItems: 1, items: { $ref: getSchemaPath(StepSpecSchema) } },
    description: 'The branches, run at once; the steps of one branch run in order',
  })
  parallel: StepSpecSchema[][];
}

@ApiExtraModels(StepSpecSchema, GroupSpecSchema)
export class DefinitionSchema {
  @ApiProperty({ example: 'order-fulfilment' })
  name: string;

  @ApiProperty({ example: 2 })
  version: number;

  @ApiProperty({ type: String, nullable: true, example: 'Reserve, charge, ship' })
  description: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 600000 })
  timeoutMs: number | null;

  @ApiProperty({ enum: ON_STEP_FAILURE, example: 'compensate' })
  onStepFailure: string;

  @ApiProperty({ type: 'array', items: { oneOf: [{ $ref: getSchemaPath(StepSpecSchema) }, { $ref: getSchemaPath(GroupSpecSchema) }] }, description: 'Steps and parallel groups, in order' })
  steps: Array<StepSpecSchema | GroupSpecSchema>;

  @ApiProperty({ description: 'false once the name was disabled: new triggers get 409', example: true })
  enabled: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class DefinitionPageSchema {
  @ApiProperty({ type: [DefinitionSchema] })
  items: DefinitionSchema[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor: string | null;
}

export class DefinitionVersionsSchema {
  @ApiProperty({ type: [DefinitionSchema], description: 'Every version, oldest first' })
  items: DefinitionSchema[];
}
