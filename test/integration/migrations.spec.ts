import { Client } from 'pg';
import { runMigrations } from '../../src/database/migrate.js';
import { createTestDatabase, TestDatabase } from '../support/test-database.js';

describe(runMigrations.name, () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterEach(async () => {
    await db.drop();
  });

  it('should let concurrent runs (several instances starting) apply each migration exactly once', async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => runMigrations({ databaseUrl: db.url, dbPoolSize: 2 })));
    const applied = runs.flat();
    expect(applied).toEqual(['CreateDefinitions1763800000000', 'CreateSagas1763800100000', 'AddAttemptDeadline1763800200000', 'ReplayAndSearch1763800300000', 'ApiKeysAndAudit1763800400000', 'CircuitWait1763800500000', 'HotSagaUpdates1763800600000', 'CarriedAttempts1763800700000', 'OutstandingAttempts1763800800000']);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT name FROM schema_migrations');
      expect(rows.map((r) => r.name)).toEqual(['CreateDefinitions1763800000000', 'CreateSagas1763800100000', 'AddAttemptDeadline1763800200000', 'ReplayAndSearch1763800300000', 'ApiKeysAndAudit1763800400000', 'CircuitWait1763800500000', 'HotSagaUpdates1763800600000', 'CarriedAttempts1763800700000', 'OutstandingAttempts1763800800000']);
      const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
      expect(tables.rows.map((r) => r.tablename)).toEqual(['api_key', 'audit_log', 'saga', 'saga_definition', 'saga_definition_name', 'saga_event', 'saga_outbox', 'saga_step', 'schema_migrations']);
    } finally {
      await client.end();
    }
  });

  it('should apply nothing on a second run', async () => {
    await runMigrations({ databaseUrl: db.url, dbPoolSize: 2 });
    expect(await runMigrations({ databaseUrl: db.url, dbPoolSize: 2 })).toEqual([]);
  });
});
