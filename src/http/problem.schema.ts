import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from '../common/app-error.js';

/** OpenAPI schemas of RFC 9457 problem details (documentation only). */
export class FieldErrorSchema {
  @ApiProperty({ description: 'The field as users write it', example: 'steps[1].action.url' })
  path: string;

  @ApiProperty({ description: 'The field as an RFC 6901 JSON pointer', example: '/steps/1/action/url' })
  pointer: string;

  @ApiProperty({ example: 'must be an absolute http:// or https:// URL' })
  message: string;
}

export class ProblemSchema {
  @ApiProperty({ example: 'urn:saga-orchestrator:problem:saga-state-conflict' })
  type: string;

  @ApiProperty({ example: 'Not allowed in this saga status' })
  title: string;

  @ApiProperty({ example: 409 })
  status: number;

  @ApiProperty({ example: 'Cannot replay: a RUNNING saga cannot be replayed (only PAUSED, FAILED and COMPENSATED ones can).' })
  detail: string;

  @ApiProperty({ enum: Object.values(ErrorCode), description: 'Stable code to branch on', example: 'SAGA_STATE_CONFLICT' })
  code: string;

  @ApiPropertyOptional({ description: 'The request path', example: '/v1/sagas/0b6f2d4e-9f7a-4c55-8c1e-3f2a7d9e1b20/replay' })
  instance?: string;

  @ApiPropertyOptional({ type: [FieldErrorSchema], description: 'VALIDATION_FAILED: every offending field' })
  errors?: FieldErrorSchema[];

  @ApiPropertyOptional({ description: 'The saga concerned (SAGA_NOT_FOUND, SAGA_STATE_CONFLICT, IDEMPOTENCY_KEY_REUSED)', example: '0b6f2d4e-9f7a-4c55-8c1e-3f2a7d9e1b20' })
  sagaId?: string;

  @ApiPropertyOptional({ description: 'SAGA_STATE_CONFLICT: the status the saga was in', example: 'RUNNING' })
  sagaStatus?: string;

  @ApiPropertyOptional({ description: 'DEFINITION_NOT_FOUND: the name asked for', example: 'order-fulfilment' })
  definition?: string;

  @ApiPropertyOptional({ type: Number, description: 'DEFINITION_VERSION_NOT_FOUND: the version asked for', example: 3 })
  version?: number;

  @ApiPropertyOptional({ type: Object, description: 'NOT_READY: the result of each dependency check' })
  checks?: Record<string, unknown>;
}
