import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { toIntIfDecimal } from '../../common/query-int.js';


export class ListDefinitionsQuery {
  /** Page size. @defaultValue 100 */
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Transform(toIntIfDecimal)
  @Min(1)
  @Max(1000)
  @IsInt()
  limit?: number;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({ description: '`nextCursor` of the previous page' })
  @IsOptional()
  @MaxLength(512)
  @IsString()
  cursor?: string;
}
