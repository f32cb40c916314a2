import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { toIntIfDecimal } from '../../common/query-int.js';


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
