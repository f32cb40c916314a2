import { DynamicModule, Module, Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { DefinitionsModule } from './definitions/definitions.module.js';
import { HealthModule } from './health/health.module.js';
import { RedisModule } from './redis/redis.module.js';

/** Composes the process from its role: every role serves health; `api`/`all` serve /v1. */
@Module({})
export class AppModule {
  static forConfig(config: AppConfig): DynamicModule {
    const roleModules: Type[] = [];
    if (config.servesApi) roleModules.push(DefinitionsModule);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forConfig(config),
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), retryAttempts: 5, retryDelay: 1_000 }),
        RedisModule,
        HealthModule,
        ...roleModules,
      ],
    };
  }
}
