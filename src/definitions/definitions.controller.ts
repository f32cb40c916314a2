import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppError } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';
import type { DefinitionView } from './definition.view.js';
import { decodeNameCursor, DefinitionsService } from './definitions.service.js';
import { CreateDefinitionDto } from './dto/create-definition.dto.js';
import { ListDefinitionsQuery } from './dto/list-definitions.query.js';

@Controller('v1/definitions')
export class DefinitionsController {
  constructor(private readonly definitions: DefinitionsService) {}

  /** 201 with a new version; 200 with the latest version when the body is identical to it. */
  @Post()
  async create(@Body() body: CreateDefinitionDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<DefinitionView> {
    const { definition, created } = await this.definitions.register(body);
    void reply
      .status(created ? 201 : 200)
      .header('location', `/v1/definitions/${definition.name}/versions/${definition.version}`);
    return definition;
  }

  @Get()
  async list(@Query() query: ListDefinitionsQuery): Promise<{ items: DefinitionView[]; nextCursor: string | null }> {
    let after: string | null = null;
    if (query.cursor !== undefined) {
      after = decodeNameCursor(query.cursor);
      if (after === null) throw AppError.validation([fieldError(['cursor'], 'is not a cursor returned by this endpoint')]);
    }
    return this.definitions.list(query.limit ?? 100, after);
  }

  @Get(':name')
  latest(@Param('name') name: string): Promise<DefinitionView> {
    return this.definitions.latest(name);
  }

  @Get(':name/versions')
  async versions(@Param('name') name: string): Promise<{ items: DefinitionView[] }> {
    return { items: await this.definitions.versions(name) };
  }

  @Get(':name/versions/:version')
  version(@Param('name') name: string, @Param('version') version: string): Promise<DefinitionView> {
    if (!/^[1-9]\d{0,8}$/.test(version)) {
      throw AppError.validation([fieldError(['version'], 'must be a positive integer')]);
    }
    return this.definitions.version(name, Number(version));
  }

  /** Disables the name (new triggers get 409); running sagas finish normally. */
  @Delete(':name')
  @HttpCode(200)
  disable(@Param('name') name: string): Promise<DefinitionView> {
    return this.definitions.disable(name);
  }
}
