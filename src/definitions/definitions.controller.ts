import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../auth/audit.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RequireScope, type Principal } from '../auth/scopes.js';
import { AppError } from '../common/app-error.js';
import { ApiProblems } from '../http/openapi.js';
import { DefinitionPageSchema, DefinitionSchema, DefinitionVersionsSchema } from './definition.schemas.js';
import { fieldError } from '../common/field-error.js';
import type { DefinitionView } from './definition.view.js';
import { decodeNameCursor, DefinitionsService } from './definitions.service.js';
import { CreateDefinitionDto } from './dto/create-definition.dto.js';
import { ListDefinitionsQuery } from './dto/list-definitions.query.js';

const NAME = { name: 'name', description: 'Definition name', example: 'order-fulfilment' };

@ApiTags('definitions')
@ApiBearerAuth()
@ApiProblems(401, 403, 429)
@Controller('v1/definitions')
export class DefinitionsController {
  constructor(
    private readonly definitions: DefinitionsService,
    private readonly audit: AuditLog,
  ) {}

  /** 201 with a new version; 200 with the latest version when the body is identical to it. */
  @Post()
  @RequireScope('definitions:write')
  @ApiOperation({ summary: 'Register a definition (a new version of its name)', description: 'An identical body to the latest version answers 200 with it; anything else is a new version (201).' })
  @ApiCreatedResponse({ type: DefinitionSchema, description: 'A new version' })
  @ApiOkResponse({ type: DefinitionSchema, description: 'Identical to the latest version' })
  @ApiProblems(400, 413, 415, 503)
  async create(
    @Body() body: CreateDefinitionDto,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() by: Principal,
  ): Promise<DefinitionView> {
    const { definition, created } = await this.definitions.register(body);
    if (created) await this.audit.record(by.name, 'definition.register', `${definition.name}@${definition.version}`);
    void reply
      .status(created ? 201 : 200)
      .header('location', `/v1/definitions/${definition.name}/versions/${definition.version}`);
    return definition;
  }

  @Get()
  @RequireScope('definitions:read')
  @ApiOperation({ summary: 'The latest version of every definition, by name', description: 'Ordered by name; `limit` (1-1000, 100 by default) and `cursor` (the `nextCursor` of the page before) page through them.' })
  @ApiOkResponse({ type: DefinitionPageSchema })
  @ApiProblems(400, 503)
  async list(@Query() query: ListDefinitionsQuery): Promise<{ items: DefinitionView[]; nextCursor: string | null }> {
    let after: string | null = null;
    if (query.cursor !== undefined) {
      after = decodeNameCursor(query.cursor);
      if (after === null) throw AppError.validation([fieldError(['cursor'], 'is not a cursor returned by this endpoint')]);
    }
    return this.definitions.list(query.limit ?? 100, after);
  }

  @Get(':name')
  @RequireScope('definitions:read')
  @ApiOperation({ summary: 'The latest version of a definition', description: 'With every default written out, its version and whether the name is enabled.' })
  @ApiParam(NAME)
  @ApiOkResponse({ type: DefinitionSchema })
  @ApiProblems(404, 503)
  latest(@Param('name') name: string): Promise<DefinitionView> {
    return this.definitions.latest(name);
  }

  @Get(':name/versions')
  @RequireScope('definitions:read')
  @ApiOperation({ summary: 'Every version of a definition, oldest first', description: 'Sagas stay pinned to the version they started with; this lists them all.' })
  @ApiParam(NAME)
  @ApiOkResponse({ type: DefinitionVersionsSchema })
  @ApiProblems(404, 503)
  async versions(@Param('name') name: string): Promise<{ items: DefinitionView[] }> {
    return { items: await this.definitions.versions(name) };
  }

  @Get(':name/versions/:version')
  @RequireScope('definitions:read')
  @ApiOperation({ summary: 'One version of a definition', description: 'As stored, with every default written out.' })
  @ApiParam(NAME)
  @ApiParam({ name: 'version', example: 2 })
  @ApiOkResponse({ type: DefinitionSchema })
  @ApiProblems(400, 404, 503)
  version(@Param('name') name: string, @Param('version') version: string): Promise<DefinitionView> {
    if (!/^[1-9]\d{0,8}$/.test(version)) {
      throw AppError.validation([fieldError(['version'], 'must be a positive integer')]);
    }
    return this.definitions.version(name, Number(version));
  }

  /** Disables the name (new triggers get 409); running sagas finish normally. */
  @Delete(':name')
  @HttpCode(200)
  @RequireScope('definitions:write')
  @ApiOperation({ summary: 'Disable a definition', description: 'New triggers get 409; running sagas finish. Registering it again enables it.' })
  @ApiParam(NAME)
  @ApiOkResponse({ type: DefinitionSchema })
  @ApiProblems(404, 503)
  async disable(@Param('name') name: string, @CurrentPrincipal() by: Principal): Promise<DefinitionView> {
    const definition = await this.definitions.disable(name);
    await this.audit.record(by.name, 'definition.disable', name);
    return definition;
  }
}
