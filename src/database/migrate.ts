import { DataSource } from 'typeorm';
import { dataSourceOptions, DatabaseSettings } from './data-source-options.js';

/** Arbitrary constant: the advisory lock that serializes migration runs across instances. */
const MIGRATION_LOCK_KEY = 7_245_100_318;

/**
 * Applies pending migrations. Several instances may start at once: a session
 * advisory lock lets one migrate while the others wait, then find nothing to do.
 * Returns the names of the migrations applied by this call.
 */
export async function runMigrations(settings: DatabaseSettings): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions({ ...settings, dbPoolSize: 2 }));
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
    await dataSource.destroy();
  }
}
