import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { BACKOFFS, LIMITS } from '../definition.model.js';
import type { Backoff } from '../definition.model.js';

export class RetryPolicyDto {
  @IsOptional()
  @Min(1)
  @Max(LIMITS.maxAttempts)
  @IsInt()
  maxAttempts?: number;

  @IsOptional()
  @IsIn(BACKOFFS, { message: `must be one of ${BACKOFFS.join(', ')}` })
  backoff?: Backoff;

  @IsOptional()
  @Min(0)
  @Max(LIMITS.maxDelayMs)
  @IsInt()
  initialDelayMs?: number;

  @IsOptional()
  @Min(0)
  @Max(LIMITS.maxDelayMs)
  @IsInt()
  maxDelayMs?: number;
}
