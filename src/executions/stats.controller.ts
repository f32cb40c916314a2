import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/scopes.js';
import { ApiProblems } from '../http/openapi.js';
import { StatsSchema } from './saga.schemas.js';
import { Controller, Get } from '@nestjs/common';
import { SagaQueriesService, type SagaStats } from './saga-queries.service.js';

@ApiTags('sagas')
@ApiBearerAuth()
@RequireScope('sagas:read')
@ApiProblems(401, 403, 429)
@Controller('v1/stats')
export class StatsController {
  constructor(private readonly queries: SagaQueriesService) {}

  /** Saga counts per status and per definition (cached for up to 2 s per instance). */
  @Get()
  @ApiOperation({ summary: 'Saga counts per status and per definition', description: 'Counted from Postgres, cached for up to 2 s.' })
  @ApiOkResponse({ type: StatsSchema })
  @ApiProblems(503)
  stats(): Promise<SagaStats> {
    return this.queries.getStats();
  }
}
