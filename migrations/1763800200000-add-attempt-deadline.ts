import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The deadline of a queue step's outstanding attempt, set when it is handed
 * to the participant's queue. The Redis timer job is the fast path; this
 * column lets the reconciler end the attempt on time when Redis lost the timer.
 */
export class AddAttemptDeadline1763800200000 implements MigrationInterface {
  name = 'AddAttemptDeadline1763800200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE saga ADD COLUMN attempt_deadline timestamptz');
    await q.query('CREATE INDEX saga_attempt_deadline ON saga (attempt_deadline) WHERE attempt_deadline IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX saga_attempt_deadline');
    await q.query('ALTER TABLE saga DROP COLUMN attempt_deadline');
  }
}
