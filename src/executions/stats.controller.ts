import { Controller, Get } from '@nestjs/common';
import { SagaQueriesService, type SagaStats } from './saga-queries.service.js';

@Controller('v1/stats')
export class StatsController {
  constructor(private readonly queries: SagaQueriesService) {}

  /** Saga counts per status and per definition (cached for up to 2 s per instance). */
  @Get()
  stats(): Promise<SagaStats> {
    return this.queries.getStats();
  }
}
