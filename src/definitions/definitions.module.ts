import { Module } from '@nestjs/common';
import { DefinitionCache } from './definition-cache.js';
import { DefinitionsRepository } from './definitions.repository.js';
import { DefinitionsService } from './definitions.service.js';

/** Definition storage; used by the API and by the workers. */
@Module({
  providers: [DefinitionsRepository, DefinitionsService, DefinitionCache],
  exports: [DefinitionsRepository, DefinitionsService, DefinitionCache],
})
export class DefinitionsModule {}
