import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { BACKOFFS, LIMITS } from '../definition.model.js';
import type { Backoff } from '../definition.model.js';

export class RetryPolicyDto {
  @ApiPropertyOptional({
    description: 'Attempts per phase, the first included; 0 is unlimited (retriable steps only, and their default)',
    default: 3,
    minimum: 0,
    maximum: LIMITS.maxAttempts,
  })
  @IsOptional()
  @Min(0)
  @Max(LIMITS.maxAttempts)
  @IsInt()
  maxAttempts?: number;

  @ApiPropertyOptional({ enum: BACKOFFS, default: 'exponential' })
  @IsOptional()
  @IsIn(BACKOFFS, { message: `must be one of ${BACKOFFS.join(', ')}` })
  backoff?: Backoff;

  @ApiPropertyOptional({ default: 100, minimum: 0, maximum: LIMITS.maxDelayMs })
  @IsOptional()
  @Min(0)
  @Max(LIMITS.maxDelayMs)
  @IsInt()
  initialDelayMs?: number;

  @ApiPropertyOptional({ default: 10000, minimum: 0, maximum: LIMITS.maxDelayMs })
  @IsOptional()
  @Min(0)
  @Max(LIMITS.maxDelayMs)
  @IsInt()
  maxDelayMs?: number;
}
