import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { runMigrations } from './database/migrate.js';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = new Logger('main');
  if (config.migrateOnStart) {
    const applied = await runMigrations(config);
    logger.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.log(`saga orchestrator (role ${config.role}) listening on http://${shown}:${config.port}`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`Start failed: ${(error as Error)?.stack ?? error}`);
  }
  process.exit(1);
});
