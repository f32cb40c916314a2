import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `circuit_wait`: set when the outstanding attempt waits because its
 * participant host's circuit is open ({ host, until }), cleared by the next
 * transition; the saga view shows it on the current step.
 */
export class CircuitWait1763800500000 implements MigrationInterface {
  name = 'CircuitWait1763800500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga ADD COLUMN circuit_wait jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga DROP COLUMN circuit_wait`);
  }
}
