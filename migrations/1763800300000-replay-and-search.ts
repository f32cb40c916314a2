import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replay and the saga list.
 * - `attempt_base`: attempts of the current step and phase made before the
 *   last replay; the retry budget counts from there (SPEC §5 "fresh budget").
 * - Indexes for `GET /v1/sagas`, which lists newest first by
 *   (created_at, id) with keyset pagination, under each filter it offers, and
 *   a partial index over the sagas that are not terminal (lists of several
 *   unsettled statuses, and their counts in `GET /v1/stats`).
 */
export class ReplayAndSearch1763800300000 implements MigrationInterface {
  name = 'ReplayAndSearch1763800300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga ADD COLUMN attempt_base int NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX saga_status_created ON saga (status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX saga_definition_created ON saga (definition_name, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX saga_definition_status_created ON saga (definition_name, status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX saga_correlation_created ON saga (correlation_id, created_at DESC, id DESC) WHERE correlation_id IS NOT NULL`);
    await q.query(
      `CREATE INDEX saga_unsettled_created ON saga (created_at DESC, id DESC) WHERE status IN ('RUNNING', 'COMPENSATING', 'PAUSED', 'FAILED')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX saga_unsettled_created');
    await q.query('DROP INDEX saga_correlation_created');
    await q.query('DROP INDEX saga_definition_status_created');
    await q.query('DROP INDEX saga_definition_created');
    await q.query('DROP INDEX saga_status_created');
    await q.query('ALTER TABLE saga DROP COLUMN attempt_base');
  }
}
