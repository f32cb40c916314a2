import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { Reconciler } from './reconciler.js';
import { StepRunner } from './step-runner.js';
import { StepWorker } from './step.worker.js';

@Module({ imports: [ExecutionsModule, DispatchModule], providers: [StepRunner, StepWorker, Reconciler] })
export class WorkersModule {}
