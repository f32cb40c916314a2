import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module.js';
import { CallbackLimits } from './callback-limits.js';
import { WaitsController } from './waits.controller.js';

/** The API of SPEC §10: callbacks and signals. */
@Module({ imports: [ExecutionsModule], controllers: [WaitsController], providers: [CallbackLimits] })
export class WaitsApiModule {}
