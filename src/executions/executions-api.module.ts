import { Module } from '@nestjs/common';
import { ExecutionsController } from './executions.controller.js';
import { ExecutionsModule } from './executions.module.js';

@Module({ imports: [ExecutionsModule], controllers: [ExecutionsController] })
export class ExecutionsApiModule {}
