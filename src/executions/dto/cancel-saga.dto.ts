import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of `POST /v1/sagas/{id}/cancel` (optional). */
export class CancelSagaDto {
  /** Why the saga is cancelled; kept in its history. */
  @ApiPropertyOptional({ maxLength: 1000, description: 'Kept in the history (SagaCancelled)', example: 'customer withdrew the order' })
  @IsOptional()
  @MaxLength(1000)
  @IsString()
  reason?: string;
}
