import { Module } from '@nestjs/common';
import { DefinitionsModule } from '../definitions/definitions.module.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { ExecutionsService } from './executions.service.js';
import { OutstandingAttempts } from './outstanding-attempts.js';
import { SagaReads } from './saga-reads.js';
import { SagaRepository } from './saga.repository.js';
import { SagaTransitions } from './saga-transitions.js';
import { Waits } from './waits.js';
import { WaitAnswers } from './wait-answers.js';
import { SettledSagas } from './settled-sagas.js';

/** Saga state and transitions; used by the API and by the workers. */
@Module({
  imports: [DefinitionsModule, DispatchModule],
  providers: [ExecutionsService, SagaTransitions, SagaRepository, SagaReads, OutstandingAttempts, SettledSagas, Waits, WaitAnswers],
  exports: [ExecutionsService, SagaTransitions, SagaRepository, SagaReads, OutstandingAttempts, SettledSagas, Waits, WaitAnswers, DefinitionsModule],
})
export class ExecutionsModule {}
