import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets a step's transition update the saga row in place (a HOT update: no new
 * entries in any of saga's ten indexes). Every dispatch sets `dispatched_at`,
 * so its index made every transition write all of them; the reconciler,
 * its only reader, now finds running sagas through `saga_unsettled_created`
 * (in-flight sagas only) and orders them itself. Free space left in each
 * page (fillfactor) gives the new row version room on the same page.
 */
export class HotSagaUpdates1763800600000 implements MigrationInterface {
  name = 'HotSagaUpdates1763800600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX saga_active_dispatched`);
    await q.query(`ALTER TABLE saga SET (fillfactor = 80)`);
    await q.query(`ALTER TABLE saga_step SET (fillfactor = 80)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga_step RESET (fillfactor)`);
    await q.query(`ALTER TABLE saga RESET (fillfactor)`);
    await q.query(`CREATE INDEX saga_active_dispatched ON saga (dispatched_at) WHERE status IN ('RUNNING', 'COMPENSATING')`);
  }
}
