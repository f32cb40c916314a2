import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/scopes.js';
import { AppError, ErrorCode } from '../common/app-error.js';
import { ApiProblems } from '../http/openapi.js';
import { RedisConnection } from '../redis/redis.module.js';

/** Per-check limit, so a hung dependency makes `ready` fail rather than hang. */
const CHECK_TIMEOUT_MS = 1_500;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnection,
  ) {}

  /** The process is up and serving HTTP; no dependency is checked. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness', description: 'The process is up and serving HTTP; no dependency is checked. Needs no key.' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Postgres and Redis both answer; otherwise 503 problem+json naming the failed checks. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness', description: 'Postgres and Redis both answer; otherwise 503 problem+json naming the failed checks. Needs no key.' })
  @ApiProblems(503)
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.db.pingCheck('postgres').withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('redis')
            .attempt(async () => {
              await this.redis.client.ping();
            })
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const down = Object.keys(result.error ?? {});
      throw new AppError(ErrorCode.NOT_READY, `Not ready: ${down.join(' and ')} unavailable.`, { checks: result.details });
    }
  }
}
