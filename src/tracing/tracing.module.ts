import { Global, Module } from '@nestjs/common';
import { SagaTracing } from './saga-tracing.js';

@Global()
@Module({ providers: [SagaTracing], exports: [SagaTracing] })
export class TracingModule {}
