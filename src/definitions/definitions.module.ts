import { Module } from '@nestjs/common';
import { DefinitionsController } from './definitions.controller.js';
import { DefinitionsRepository } from './definitions.repository.js';
import { DefinitionsService } from './definitions.service.js';

@Module({
  controllers: [DefinitionsController],
  providers: [DefinitionsRepository, DefinitionsService],
  exports: [DefinitionsService, DefinitionsRepository],
})
export class DefinitionsModule {}
