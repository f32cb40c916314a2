import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { COMPLETIONS, HTTP_METHODS, LIMITS, QUEUE_NAME_PATTERN, SIGNAL_NAME_PATTERN } from '../definition.model.js';
import type { Completion, HttpMethod } from '../definition.model.js';
import { IsHttpUrl } from './http-url.validator.js';

export const ACTION_TYPES = ['http', 'queue', 'signal'] as const;

/**
 * What class-transformer builds when `type` is neither http nor queue: only
 * `type` is checked (and reported), so the error names the real mistake.
 */
export class ActionDto {
  @ApiProperty({ enum: ACTION_TYPES, example: 'http' })
  @IsIn(ACTION_TYPES, { message: `must be one of ${ACTION_TYPES.join(', ')}` })
  type: string;
}

export class HttpActionDto extends ActionDto {
  declare type: 'http';

  @ApiPropertyOptional({ enum: HTTP_METHODS, default: 'POST' })
  @IsOptional()
  @IsIn(HTTP_METHODS, { message: `must be one of ${HTTP_METHODS.join(', ')}` })
  method?: HttpMethod;

  @ApiProperty({
    maxLength: LIMITS.urlMaxLength,
    example: 'https://payments.internal/orders/${input.orderId}/charges',
    description: 'May hold placeholders (SPEC §11): ${input.…}, ${results.<step>.…}, ${saga.id|run|correlationId}; their values are percent-encoded',
  })
  @MaxLength(LIMITS.urlMaxLength)
  @IsHttpUrl()
  @IsString()
  url: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: `Sent with every call; at most ${LIMITS.maxHeaders}. The server's own headers (Content-Type, Idempotency-Key, X-Saga-Id, traceparent, …) cannot be set`,
    example: { 'x-team': 'shop' },
  })
  // Kept exactly as sent and checked by CreateDefinitionDto.crossFieldErrors (see keptAsSent).
  @IsOptional()
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    enum: COMPLETIONS,
    description:
      'SPEC §10. callback: the 2xx answer only acknowledges the call; the attempt ends when POST /v1/callbacks/{callbackToken} arrives (the token is in the envelope and the X-Callback-Token header), or at timeoutMs from dispatch',
  })
  @IsOptional()
  @IsIn(COMPLETIONS, { message: 'must be "callback" (leave it out for a call whose answer is the outcome)' })
  completion?: Completion;

  @ApiPropertyOptional({
    description: `SPEC §11. Any JSON (at most ${LIMITS.bodyMaxBytes} bytes), sent instead of the envelope. A string that is exactly one placeholder becomes the value with its JSON type; one inside a longer string is replaced by its text`,
    example: { amount: '${input.total}', reference: 'order-${input.orderId}' },
  })
  // Kept exactly as sent and checked by CreateDefinitionDto.crossFieldErrors (see keptAsSent).
  @IsOptional()
  body?: unknown;
}

export class QueueActionDto extends ActionDto {
  declare type: 'queue';

  @ApiProperty({ description: 'BullMQ queue the participant consumes', example: 'payments' })
  @Matches(QUEUE_NAME_PATTERN, { message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  @IsString()
  queue: string;

  @ApiProperty({ description: 'Task name the participant dispatches on', example: 'charge' })
  @Matches(QUEUE_NAME_PATTERN, { message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  @IsString()
  task: string;
}

export class SignalActionDto extends ActionDto {
  declare type: 'signal';

  @ApiProperty({ description: 'SPEC §10: the step waits for POST /v1/sagas/{id}/signals/{signal} (until the step\'s timeoutMs); not a valid compensation', example: 'manager-approval' })
  @Matches(SIGNAL_NAME_PATTERN, { message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  @IsString()
  signal: string;
}

/** class-transformer options that pick the action class by its `type`. */
export const ACTION_TYPE_OPTIONS = {
  discriminator: {
    property: 'type',
    subTypes: [
      { value: HttpActionDto, name: 'http' },
      { value: QueueActionDto, name: 'queue' },
      { value: SignalActionDto, name: 'signal' },
    ],
  },
  keepDiscriminatorProperty: true,
};
