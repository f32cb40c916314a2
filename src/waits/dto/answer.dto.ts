import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import type { FieldError } from '../../common/app-error.js';
import { fieldError } from '../../common/field-error.js';
import { MAX_PAYLOAD_BYTES } from '../../executions/storable-outcome.js';

const STATUSES = ['succeeded', 'failed'] as const;
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * What a callback or a signal says (SPEC §10): `output` goes with
 * succeeded, `error` (and for a callback `retryable`) with failed. Both are
 * free-form JSON, kept as sent; an output over 256 KiB is refused here, so
 * the sender can send a smaller one instead of failing the step.
 */
function answerErrors(body: unknown, mayRetry: boolean): FieldError[] {
  if (!isObject(body)) return [];
  const errors: FieldError[] = [];
  if (body.status === 'failed' && Object.hasOwn(body, 'output')) errors.push(fieldError(['output'], 'goes with status "succeeded"; a failure reports `error`'));
  if (body.status === 'succeeded') {
    for (const field of mayRetry ? ['error', 'retryable'] : ['error']) {
      if (Object.hasOwn(body, field)) errors.push(fieldError([field], 'goes with status "failed"'));
    }
  }
  for (const field of ['output', 'error']) {
    if (!Object.hasOwn(body, field)) continue;
    const bytes = Buffer.byteLength(JSON.stringify(body[field]) ?? '');
    if (bytes > MAX_PAYLOAD_BYTES) errors.push(fieldError([field], `is ${bytes} bytes as JSON; at most ${MAX_PAYLOAD_BYTES} (256 KiB)`));
  }
  return errors;
}

/** Body of `POST /v1/sagas/{id}/signals/{signal}`. */
export class SignalDto {
  static readonly keptAsSent = ['output', 'error'];

  @ApiProperty({ enum: STATUSES, example: 'succeeded' })
  @IsIn(STATUSES, { message: 'must be "succeeded" or "failed"' })
  status: (typeof STATUSES)[number];

  @ApiPropertyOptional({ description: 'With succeeded: the step\'s output (any JSON, at most 256 KiB)', example: { approvedBy: 'dana' } })
  @IsOptional()
  output?: unknown;

  @ApiPropertyOptional({ description: 'With failed: why (any JSON), kept in the step\'s error', example: { reason: 'over budget' } })
  @IsOptional()
  error?: unknown;

  static crossFieldErrors(body: unknown): FieldError[] {
    return answerErrors(body, false);
  }
}

/** Body of `POST /v1/callbacks/{token}`. */
export class CallbackDto extends SignalDto {
  @ApiPropertyOptional({ description: 'With failed: true lets the attempt be retried within the step\'s budget (a new call, a new token); false (the default) fails the step for good', default: false })
  @IsOptional()
  @IsBoolean()
  retryable?: boolean;

  static override crossFieldErrors(body: unknown): FieldError[] {
    return answerErrors(body, true);
  }
}
