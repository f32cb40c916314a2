import { DynamicModule, Module, Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { DefinitionsApiModule } from './definitions/definitions-api.module.js';
import { ExecutionsApiModule } from './executions/executions-api.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OutboundModule } from './outbound/outbound.module.js';
import { RedisModule } from './redis/redis.module.js';
import { TracingModule } from './tracing/tracing.module.js';
import { WorkersModule } from './workers/workers.module.js';
import { WaitsApiModule } from './waits/waits-api.module.js';

/** Composes the process from its role: every role serves health; `api`/`all` serve /v1; `worker`/`all` run steps. */
@Module({})
export class AppModule {
  static forConfig(config: AppConfig): DynamicModule {
    const roleModules: Type[] = [];
    if (config.servesApi) roleModules.push(AuthModule, DefinitionsApiModule, ExecutionsApiModule, WaitsApiModule);
    if (config.runsWorkers) roleModules.push(WorkersModule);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forConfig(config),
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), retryAttempts: 5, retryDelay: 1_000 }),
        RedisModule,
        OutboundModule,
        MetricsModule,
        TracingModule,
        HealthModule,
        ...roleModules,
      ],
    };
  }
}
