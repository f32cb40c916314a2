import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { runMigrations } from '../../src/database/migrate.js';
import { hashDefinition } from '../../src/definitions/normalize-definition.js';
import type { DefinitionSpec } from '../../src/definitions/definition.model.js';
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
    expect(applied).toEqual(['CreateDefinitions1763800000000', 'CreateSagas1763800100000', 'AddAttemptDeadline1763800200000', 'ReplayAndSearch1763800300000', 'ApiKeysAndAudit1763800400000', 'CircuitWait1763800500000', 'HotSagaUpdates1763800600000', 'CarriedAttempts1763800700000', 'OutstandingAttempts1763800800000', 'CallbacksAndSignals1763800900000']);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT name FROM schema_migrations');
      expect(rows.map((r) => r.name)).toEqual(['CreateDefinitions1763800000000', 'CreateSagas1763800100000', 'AddAttemptDeadline1763800200000', 'ReplayAndSearch1763800300000', 'ApiKeysAndAudit1763800400000', 'CircuitWait1763800500000', 'HotSagaUpdates1763800600000', 'CarriedAttempts1763800700000', 'OutstandingAttempts1763800800000', 'CallbacksAndSignals1763800900000']);
      const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
      expect(tables.rows.map((r) => r.tablename)).toEqual(['api_key', 'audit_log', 'saga', 'saga_callback', 'saga_definition', 'saga_definition_name', 'saga_event', 'saga_outbox', 'saga_signal', 'saga_step', 'schema_migrations']);
    } finally {
      await client.end();
    }
  });

  it('should apply nothing on a second run', async () => {
    await runMigrations({ databaseUrl: db.url, dbPoolSize: 2 });
    expect(await runMigrations({ databaseUrl: db.url, dbPoolSize: 2 })).toEqual([]);
  });

  it('should move a running saga\'s outstanding attempt to its step, and give stored steps their kind and definitions their new hash (1763800800000)', async () => {
    await runMigrations({ databaseUrl: db.url, dbPoolSize: 2 });
    const dataSource = new DataSource(dataSourceOptions({ databaseUrl: db.url, dbPoolSize: 2 }));
    await dataSource.initialize();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // Back to the schema before it (its down, after the down of the one that follows it), with data in the old shape: one cursor per saga.
      await dataSource.undoLastMigration({ transaction: 'each' });
      await dataSource.undoLastMigration({ transaction: 'each' });
      const step = (name: string) => ({ name, action: { type: 'http', method: 'POST', url: `http://x/${name}`, headers: {} }, compensation: null, retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10000 }, timeoutMs: 10000 });
      const oldSpec = { description: null, timeoutMs: null, onStepFailure: 'compensate', steps: [step('a'), step('b')] };
      await client.query(`INSERT INTO saga_definition_name (name, latest_version) VALUES ('old', 1)`);
      await client.query(`INSERT INTO saga_definition (name, version, spec, spec_hash) VALUES ('old', 1, $1, 'hash-before')`, [oldSpec]);
      const id = '00000000-0000-4000-8000-00000000000a';
      await client.query(
        `INSERT INTO saga (id, definition_name, definition_version, status, input, cursor, phase, attempt, attempt_base, awaiting, dispatched_at, not_before, carrier, attempt_deadline)
         VALUES ($1, 'old', 1, 'RUNNING', '{}', 1, 'action', 3, 2, true, now(), now() + interval '1 second', 'job-9', now() + interval '10 seconds')`,
        [id],
      );
      await client.query(`INSERT INTO saga_step (saga_id, idx, name, status, attempts) VALUES ($1, 0, 'a', 'SUCCEEDED', 1), ($1, 1, 'b', 'RUNNING', 3)`, [id]);

      expect(await runMigrations({ databaseUrl: db.url, dbPoolSize: 2 })).toEqual(['OutstandingAttempts1763800800000', 'CallbacksAndSignals1763800900000']);
      const { rows: steps } = await client.query(
        `SELECT idx, awaiting, attempt_base, carrier, not_before IS NOT NULL AS backoff, attempt_deadline IS NOT NULL AS deadline, dispatched_at IS NOT NULL AS dispatched
           FROM saga_step WHERE saga_id = $1 ORDER BY idx`,
        [id],
      );
      expect(steps).toEqual([
        { idx: 0, awaiting: null, attempt_base: 0, carrier: null, backoff: false, deadline: false, dispatched: false },
        { idx: 1, awaiting: 'action', attempt_base: 2, carrier: 'job-9', backoff: true, deadline: true, dispatched: true },
      ]);
      const { rows: columns } = await client.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'saga' AND column_name IN ('cursor', 'awaiting', 'carrier')`);
      expect(columns).toEqual([]);
      const { rows: defs } = await client.query(`SELECT spec, spec_hash FROM saga_definition WHERE name = 'old'`);
      const spec = defs[0].spec as DefinitionSpec;
      expect(spec.steps.map((s) => (s as { kind: string }).kind)).toEqual(['compensatable', 'compensatable']);
      // The hash a POST of the same definition computes now, so it finds this version.
      expect(defs[0].spec_hash).toBe(hashDefinition(spec));
    } finally {
      await client.end();
      await dataSource.destroy();
    }
  });
});
