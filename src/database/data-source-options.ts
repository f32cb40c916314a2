import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { DefinitionNameEntity } from '../definitions/definition-name.entity.js';
import { DefinitionEntity } from '../definitions/definition.entity.js';

export const ENTITIES = [DefinitionEntity, DefinitionNameEntity];

export interface DatabaseSettings {
  databaseUrl: string;
  dbPoolSize: number;
}

export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize: settings.dbPoolSize,
    applicationName: 'saga-orchestrator',
    // Fail fast on a dead connection rather than hanging a request.
    connectTimeoutMS: 5_000,
  };
}
