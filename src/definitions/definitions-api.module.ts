import { Module } from '@nestjs/common';
import { DefinitionsController } from './definitions.controller.js';
import { DefinitionsModule } from './definitions.module.js';

@Module({ imports: [DefinitionsModule], controllers: [DefinitionsController] })
export class DefinitionsApiModule {}
