import { Module } from '@nestjs/common';
import { ExecutionsController } from './executions.controller.js';
import { ExecutionsModule } from './executions.module.js';
import { SagaNotifications } from './saga-notifications.js';
import { SagaQueriesService } from './saga-queries.service.js';
import { StatsController } from './stats.controller.js';

@Module({
  imports: [ExecutionsModule],
  controllers: [ExecutionsController, StatsController],
  providers: [SagaQueriesService, SagaNotifications],
})
export class ExecutionsApiModule {}
