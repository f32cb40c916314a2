import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/app-config.js';
import { runMigrations } from './migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL and exits. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const applied = await runMigrations(config);
  console.log(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date.');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`Migration failed: ${(error as Error)?.message ?? error}. Check DATABASE_URL and that Postgres is running.`);
  process.exit(1);
});
