import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `carrier`: the BullMQ job whose worker carries the outstanding attempt on
 * from the one before it (eager steps, ADR 10), instead of a job of the
 * attempt's own; NULL when the attempt has its own job. Set with the
 * transition that dispatches the attempt. Not indexed, so saga updates stay
 * HOT.
 */
export class CarriedAttempts1763800700000 implements MigrationInterface {
  name = 'CarriedAttempts1763800700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga ADD COLUMN carrier text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga DROP COLUMN carrier`);
  }
}
