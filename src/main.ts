import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { armCrashPoints } from './common/crash-points.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { runMigrations } from './database/migrate.js';
import { createPino, PinoNestLogger } from './logging/pino-logger.js';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const pino = createPino(config.logLevel);
  Logger.overrideLogger(new PinoNestLogger(pino));
  const logger = new Logger('main');
  armCrashPoints(config.crashPoints);
  if (config.migrateOnStart) {
    const applied = await runMigrations(config);
    logger.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  }
  const app = await createApp(config, pino);
  await app.listen(config.port, config.host);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.log(`saga orchestrator (role ${config.role}) listening on http://${shown}:${config.port}`);
  exitOnSignal(app, logger);
}

/** How long a stopping process may take to close before it is ended anyway. */
const SHUTDOWN_DEADLINE_MS = 15_000;

/**
 * SIGTERM/SIGINT close the application (shutdown hooks run, connections are
 * released) and exit 0; a second signal or the deadline ends it at once.
 */
function exitOnSignal(app: INestApplication, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.log(`${signal} received: shutting down`);
    setTimeout(() => {
      logger.error(`shutdown took over ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${(error as Error)?.stack ?? error}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`Start failed: ${(error as Error)?.stack ?? error}`);
  }
  process.exit(1);
});
