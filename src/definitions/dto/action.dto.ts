import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { HTTP_METHODS, LIMITS, QUEUE_NAME_PATTERN } from '../definition.model.js';
import type { HttpMethod } from '../definition.model.js';
import { IsHttpUrl } from './http-url.validator.js';

export const ACTION_TYPES = ['http', 'queue'] as const;

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

  @ApiProperty({ format: 'uri', maxLength: LIMITS.urlMaxLength, example: 'https://payments.internal/charges' })
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

/** class-transformer options that pick the action class by its `type`. */
export const ACTION_TYPE_OPTIONS = {
  discriminator: {
    property: 'type',
    subTypes: [
      { value: HttpActionDto, name: 'http' },
      { value: QueueActionDto, name: 'queue' },
    ],
  },
  keepDiscriminatorProperty: true,
};
