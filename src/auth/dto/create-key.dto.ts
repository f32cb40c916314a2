import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { Scope, SCOPES } from '../scopes.js';

export class CreateKeyDto {
  @ApiProperty({ description: 'Shown in history and the audit trail as who did what', example: 'billing-service' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,99}$/, { message: 'must be 1-100 letters, digits, spaces, ".", "_", "@", ":" or "-"' })
  @IsString()
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['sagas:read', 'sagas:write'] })
  @IsIn(SCOPES, { each: true, message: `must list only ${SCOPES.join(', ')}` })
  @ArrayMaxSize(SCOPES.length * 2)
  @ArrayMinSize(1)
  @IsArray()
  scopes: Scope[];

  @ApiPropertyOptional({ format: 'date-time', description: 'The key stops working at this time; never when omitted', example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 time such as 2027-01-01T00:00:00Z' })
  expiresAt?: string;
}
