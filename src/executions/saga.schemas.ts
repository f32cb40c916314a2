import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { STEP_KINDS } from '../definitions/definition.model.js';
import { CompensationStatus, EventType, Phase, SagaErrorCode, SagaStatus, StepStatus } from '../engine/statuses.js';

/**
 * OpenAPI schemas of the saga responses (documentation only; the views in
 * saga.view.ts produce the bodies, and a test checks real bodies against these).
 */
const ANY_JSON = { description: 'Any JSON value', nullable: true, oneOf: [{ type: 'object' }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

export class SagaErrorSchema {
  @ApiProperty({ enum: Object.values(SagaErrorCode), example: 'STEP_FAILED' })
  code: string;

  @ApiProperty({ example: 'Step "charge-payment" failed after 3 attempts: HTTP 503' })
  message: string;

  @ApiPropertyOptional({ description: 'The step whose failure (or compensation failure) caused it', example: 'charge-payment' })
  step?: string;

  @ApiPropertyOptional({ description: 'COMPENSATION_FAILED: why compensation had started', type: () => SagaErrorSchema })
  cause?: SagaErrorSchema;
}

export class CompensationSchema {
  @ApiProperty({ enum: Object.values(CompensationStatus), example: 'SUCCEEDED' })
  status: string;

  @ApiProperty({ example: 1 })
  attempts: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  @ApiProperty({ type: Object, nullable: true, description: 'The last failed attempt: message, attempt, retryable, timedOut, HTTP status and body' })
  error: Record<string, unknown> | null;
}

export class CircuitWaitSchema {
  @ApiProperty({ example: 'payments.internal:8443' })
  host: string;

  @ApiProperty({ format: 'date-time', description: 'When the circuit lets a probe call through' })
  until: string;
}

export class StepViewSchema {
  @ApiProperty({ example: 'charge-payment' })
  name: string;

  @ApiProperty({ enum: STEP_KINDS, example: 'compensatable', description: 'SPEC §9: compensatable, pivot or retriable' })
  kind: string;

  @ApiProperty({ type: String, nullable: true, description: 'The parallel group the step belongs to (SPEC §8), or null at the top level', example: 'prepare-shipment' })
  group: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Its branch within the group (0-based), or null at the top level', example: 0 })
  branch: number | null;

  @ApiProperty({ enum: Object.values(StepStatus), example: 'SUCCEEDED' })
  status: string;

  @ApiProperty({ description: 'Attempts made in this run (replays continue the count)', example: 1 })
  attempts: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  @ApiProperty({ ...ANY_JSON, description: "The participant's answer (JSON body of its 2xx)", example: { chargeId: 'ch-1' } })
  output: unknown;

  @ApiProperty({ type: Object, nullable: true, description: 'The last failed attempt: message, attempt, retryable, timedOut, HTTP status and body' })
  error: Record<string, unknown> | null;

  @ApiProperty({ type: CompensationSchema, nullable: true, description: 'null until the step is compensated' })
  compensation: CompensationSchema | null;

  @ApiProperty({ type: CircuitWaitSchema, nullable: true, description: 'Set while the current attempt waits on the open circuit of its participant host (no attempt is used)' })
  waitingOnCircuit: CircuitWaitSchema | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    properties: { type: { type: 'string', enum: ['signal', 'callback'] }, signal: { type: 'string' } },
    required: ['type'],
    description: 'SPEC §10: what the outstanding attempt waits for ({type: "signal", signal} or {type: "callback"}), else null',
    example: { type: 'signal', signal: 'manager-approval' },
  })
  waitingFor: { type: 'signal'; signal: string } | { type: 'callback' } | null;
}

export class SagaSchema {
  @ApiProperty({ format: 'uuid', example: '0b6f2d4e-9f7a-4c55-8c1e-3f2a7d9e1b20' })
  id: string;

  @ApiProperty({ example: 'order-fulfilment' })
  definition: string;

  @ApiProperty({ example: 2 })
  version: number;

  @ApiProperty({ description: 'Starts at 1; a replay of a COMPENSATED saga starts the next run', example: 1 })
  run: number;

  @ApiProperty({ enum: Object.values(SagaStatus), example: 'COMPLETED' })
  status: string;

  @ApiProperty({ ...ANY_JSON, example: { orderId: 42 } })
  input: unknown;

  @ApiProperty({ type: String, nullable: true, example: 'order-42' })
  correlationId: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: {},
    description: 'Outputs of the steps that succeeded in this run, by step name (each any JSON)',
    example: { 'reserve-inventory': { reservationId: 'r-1' } },
  })
  results: Record<string, unknown>;

  @ApiProperty({ type: SagaErrorSchema, nullable: true })
  error: SagaErrorSchema | null;

  @ApiProperty({ type: [StepViewSchema] })
  steps: StepViewSchema[];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it became COMPLETED or COMPENSATED' })
  finishedAt: string | null;
}

export class SagaSummarySchema {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'order-fulfilment' })
  definition: string;

  @ApiProperty({ example: 2 })
  version: number;

  @ApiProperty({ example: 1 })
  run: number;

  @ApiProperty({ enum: Object.values(SagaStatus), example: 'RUNNING' })
  status: string;

  @ApiProperty({ type: String, nullable: true, example: 'order-42' })
  correlationId: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The step being run or compensated (the furthest, in a parallel group), or where the saga stopped', example: 'charge-payment' })
  currentStep: string | null;

  @ApiProperty({ enum: Object.values(Phase), nullable: true, example: 'action' })
  phase: string | null;

  @ApiProperty({ type: SagaErrorSchema, nullable: true })
  error: SagaErrorSchema | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;
}

export class SagaPageSchema {
  @ApiProperty({ type: [SagaSummarySchema] })
  items: SagaSummarySchema[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next (older) page; null on the last page' })
  nextCursor: string | null;
}

export class EventSchema {
  @ApiProperty({ description: 'Position in the history, from 1, without gaps, across runs', example: 3 })
  seq: number;

  @ApiProperty({ example: 1 })
  run: number;

  @ApiProperty({ enum: Object.values(EventType), example: 'StepSucceeded' })
  type: string;

  @ApiProperty({ type: String, nullable: true, example: 'reserve-inventory' })
  step: string | null;

  @ApiProperty({ type: String, enum: [...Object.values(Phase), null], nullable: true, example: 'action' })
  phase: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 1 })
  attempt: number | null;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({
    type: Object,
    nullable: true,
    description: 'Per type: error (failures), delayMs (retries), fromStatus/run/reason/by (SagaReplayed), …',
    example: null,
  })
  data: Record<string, unknown> | null;
}

export class EventPageSchema {
  @ApiProperty({ type: [EventSchema] })
  items: EventSchema[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page', example: null })
  nextCursor: string | null;
}

/** Sagas per status (every status is present, 0 included). */
export class StatusCountsSchema {
  @ApiProperty({ example: 12 }) RUNNING: number;
  @ApiProperty({ example: 9810 }) COMPLETED: number;
  @ApiProperty({ example: 1 }) COMPENSATING: number;
  @ApiProperty({ example: 160 }) COMPENSATED: number;
  @ApiProperty({ example: 3 }) PAUSED: number;
  @ApiProperty({ example: 1 }) FAILED: number;
}

export class DefinitionCountsSchema {
  @ApiProperty({ example: 'order-fulfilment' })
  definition: string;

  @ApiProperty({ example: 9987 })
  total: number;

  @ApiProperty({ type: StatusCountsSchema })
  byStatus: StatusCountsSchema;
}

export class StatsSchema {
  @ApiProperty({ example: 9987 })
  total: number;

  @ApiProperty({ type: StatusCountsSchema })
  byStatus: StatusCountsSchema;

  @ApiProperty({ type: [DefinitionCountsSchema] })
  byDefinition: DefinitionCountsSchema[];

  @ApiProperty({ format: 'date-time', description: 'When the counts were taken (cached for up to 2 s)' })
  at: string;
}

export class BulkReplayReportSchema {
  @ApiProperty({ example: false })
  dryRun: boolean;

  @ApiProperty({ description: 'Sagas that matched the filter (up to `limit`)', example: 130 })
  matched: number;

  @ApiProperty({ example: 128 })
  replayed: number;

  @ApiProperty({ example: 2 })
  skipped: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Why sagas were skipped, with how many each',
    example: { 'another request changed the saga first': 2 },
  })
  skippedReasons: Record<string, number>;

  @ApiProperty({ description: 'More sagas matched than `limit`; send the request again for the next ones', example: false })
  truncated: boolean;

  @ApiProperty({ type: [String], description: 'The sagas replayed (in a dry run: that would be)' })
  sagaIds: string[];

  @ApiProperty({
    type: [String],
    description: 'Error codes left out of the match: CANCELLED and SAGA_TIMEOUT unless the request named them in `errorCode`',
    example: ['CANCELLED', 'SAGA_TIMEOUT'],
  })
  excludedErrorCodes: string[];
}
