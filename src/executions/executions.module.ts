import { Module } from '@nestjs/common';
import { DefinitionsModule } from '../definitions/definitions.module.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { ExecutionsService } from './executions.service.js';
import { SagaRepository } from './saga.repository.js';

/** Saga state and transitions; used by the API and by the workers. */
@Module({
  imports: [DefinitionsModule, DispatchModule],
  providers: [ExecutionsService, SagaRepository],
  exports: [ExecutionsService, SagaRepository, DefinitionsModule],
})
export class ExecutionsModule {}
