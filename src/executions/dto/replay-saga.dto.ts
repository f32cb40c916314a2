import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of `POST /v1/sagas/{id}/replay` (optional). */
export class ReplaySagaDto {
  /** The input of the new run; only for a COMPENSATED saga. The previous run's input when omitted. */
  @IsOptional()
  input?: unknown;

  /** Why the saga is replayed; kept in its history. */
  @IsOptional()
  @MaxLength(1000)
  @IsString()
  reason?: string;
}
