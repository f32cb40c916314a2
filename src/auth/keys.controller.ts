import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';
import { toIntIfDecimal } from '../common/query-int.js';
import { ApiProblems } from '../http/openapi.js';
import { ApiKeysService, type ApiKeyView } from './api-keys.service.js';
import { AuditLog } from './audit.js';
import { ApiKeyListSchema, ApiKeySchema, AuditPageSchema, CreatedApiKeySchema, CurrentKeySchema } from './auth.schemas.js';
import { CreateKeyDto } from './dto/create-key.dto.js';
import { CurrentPrincipal } from './principal.decorator.js';
import { AnyValidKey, RequireScope, type Principal } from './scopes.js';

const AUDIT_PAGE_MAX = 500;

@ApiTags('keys')
@ApiBearerAuth()
@RequireScope('keys:admin')
@Controller('v1')
export class KeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly audit: AuditLog,
  ) {}

  @Post('keys')
  @ApiOperation({ summary: 'Create an API key', description: 'The key is in this response only; the server keeps a hash of it.' })
  @ApiCreatedResponse({ type: CreatedApiKeySchema })
  @ApiProblems(400, 401, 403, 429, 503)
  create(@Body() body: CreateKeyDto, @CurrentPrincipal() by: Principal): Promise<ApiKeyView & { key: string }> {
    return this.keys.create({ name: body.name, scopes: body.scopes, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null }, by);
  }

  @Get('keys')
  @ApiOperation({ summary: 'Every API key (never the key itself)', description: 'Name, prefix, scopes, who created it, expiry and revocation of every key; the key itself is shown only when created.' })
  @ApiOkResponse({ type: ApiKeyListSchema })
  @ApiProblems(401, 403, 429, 503)
  async list(): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.keys.list() };
  }

  /** The calling key's name and scopes: what the dashboard shows and which buttons it offers. */
  @Get('keys/current')
  @AnyValidKey()
  @ApiOperation({ summary: 'The calling API key', description: 'Any valid key may ask, whatever its scopes.' })
  @ApiOkResponse({ type: CurrentKeySchema })
  @ApiProblems(401, 429, 503)
  current(@CurrentPrincipal() principal: Principal): Principal {
    return { id: principal.id, name: principal.name, scopes: principal.scopes };
  }

  @Delete('keys/:id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key', description: 'It stops working at once on this instance and within 5 s on the others.' })
  @ApiParam({ name: 'id', example: '6f1c2a9e-3d4b-4c5a-9e8f-7a6b5c4d3e2f' })
  @ApiOkResponse({ type: ApiKeySchema })
  @ApiProblems(401, 403, 404, 429, 503)
  revoke(@Param('id') id: string, @CurrentPrincipal() by: Principal): Promise<ApiKeyView> {
    return this.keys.revoke(id, by);
  }

  @Get('audit')
  @ApiOperation({ summary: 'The audit trail, newest first', description: 'Definition changes, replays, cancels and key changes, with the key that made them.' })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  @ApiQuery({ name: 'before', required: false, description: '`nextCursor` of the previous page' })
  @ApiOkResponse({ type: AuditPageSchema })
  @ApiProblems(400, 401, 403, 429, 503)
  async auditTrail(@Query('limit') limit?: string, @Query('before') before?: string) {
    const size = limit === undefined ? 100 : toIntIfDecimal({ value: limit });
    if (typeof size !== 'number' || size < 1 || size > AUDIT_PAGE_MAX) throw AppError.validation([fieldError(['limit'], `must be an integer from 1 to ${AUDIT_PAGE_MAX}`)]);
    if (before !== undefined && !/^\d{1,18}$/.test(before)) throw AppError.validation([fieldError(['before'], 'is not a cursor returned by this endpoint')]);
    const rows = await this.audit.list(size + 1, before ?? null);
    const items = rows.slice(0, size).map((e) => ({ ...e, at: e.at.toISOString() }));
    return { items, nextCursor: rows.length > size ? items[items.length - 1].id : null };
  }
}
