import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** Query strings arrive as text; only whole decimal numbers become numbers. */
export const toIntIfDecimal = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

export class ListDefinitionsQuery {
  /** Page size. @defaultValue 100 */
  @IsOptional()
  @Transform(toIntIfDecimal)
  @Min(1)
  @Max(1000)
  @IsInt()
  limit?: number;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @MaxLength(512)
  @IsString()
  cursor?: string;
}
