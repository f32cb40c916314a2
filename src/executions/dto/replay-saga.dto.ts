import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of `POST /v1/sagas/{id}/replay` (optional). */
export class ReplaySagaDto {
  /** Free-form JSON, kept exactly as sent (see AppValidationPipe). */
  static readonly keptAsSent = ['input'];

  /** The input of the new run; only for a COMPENSATED saga. The previous run's input when omitted. */
  @ApiPropertyOptional({ description: 'Input of the new run (COMPENSATED sagas only); the previous input when omitted', example: { orderId: 42 } })
  @IsOptional()
  input?: unknown;

  /** Why the saga is replayed; kept in its history. */
  @ApiPropertyOptional({ maxLength: 1000, description: 'Kept in the history (SagaReplayed)', example: 'payment provider back up' })
  @IsOptional()
  @MaxLength(1000)
  @IsString()
  reason?: string;
}
