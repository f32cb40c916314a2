import { Module } from '@nestjs/common';
import { ExecutionsModule } from '../executions/executions.module.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { QueueStepForwarder } from './queue-step.forwarder.js';
import { Reconciler } from './reconciler.js';
import { ResultsWorker } from './results.worker.js';
import { HttpAttempt } from './http-attempt.js';
import { WaitTimers } from './wait-timers.js';
import { StepRunner } from './step-runner.js';
import { StepWorker } from './step.worker.js';

@Module({ imports: [ExecutionsModule, DispatchModule], providers: [StepRunner, HttpAttempt, StepWorker, Reconciler, QueueStepForwarder, ResultsWorker, WaitTimers] })
export class WorkersModule {}
