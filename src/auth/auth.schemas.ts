import { ApiProperty } from '@nestjs/swagger';
import { SCOPES } from './scopes.js';

/** OpenAPI schemas of the key and audit responses (documentation only). */
export class ApiKeySchema {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'billing-service' })
  name: string;

  @ApiProperty({ description: 'The visible start of the key', example: 'sk_3f9a1c2b' })
  prefix: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['sagas:read', 'sagas:write'] })
  scopes: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, description: 'Name of the key that created it', example: 'bootstrap' })
  createdBy: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt: string | null;
}

export class CurrentKeySchema {
  @ApiProperty({ description: 'The key\'s id, or "bootstrap" / "auth-disabled"', example: '6f1c2a9e-3d4b-4c5a-9e8f-7a6b5c4d3e2f' })
  id: string;

  @ApiProperty({ example: 'billing-service' })
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['sagas:read', 'sagas:write'] })
  scopes: string[];
}

export class CreatedApiKeySchema extends ApiKeySchema {
  @ApiProperty({ description: 'The key: shown here once, never again', example: 'sk_3f9a1c2b_q8Vv…' })
  key: string;
}

export class ApiKeyListSchema {
  @ApiProperty({ type: [ApiKeySchema] })
  items: ApiKeySchema[];
}

export class AuditEntrySchema {
  @ApiProperty({ example: '42' })
  id: string;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({ description: 'Name of the key', example: 'ops-console' })
  actor: string;

  @ApiProperty({ example: 'saga.replay', description: 'definition.register, definition.disable, saga.cancel, saga.replay, sagas.bulk-replay, key.create, key.revoke' })
  action: string;

  @ApiProperty({ example: '0b6f2d4e-9f7a-4c55-8c1e-3f2a7d9e1b20' })
  target: string;

  @ApiProperty({ type: Object, nullable: true, example: { reason: 'payments back up' } })
  details: Record<string, unknown> | null;
}

export class AuditPageSchema {
  @ApiProperty({ type: [AuditEntrySchema] })
  items: AuditEntrySchema[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for older entries' })
  nextCursor: string | null;
}
