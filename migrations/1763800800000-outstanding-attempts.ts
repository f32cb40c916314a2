import { createHash } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';

/** JSON with object keys sorted at every level (as src/common/canonical-json.ts; a migration keeps its own copy, frozen). */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(sort(value));
}

/**
 * Parallel groups and pivot/retriable steps (SPEC §8-§9, ADR 12).
 *
 * 1. A saga has a set of outstanding attempts, at most one per step, instead
 *    of one cursor: what described the outstanding attempt moves from the
 *    saga row to its step's row (`awaiting` names the phase; the attempt's
 *    number is the step's `attempts` or `compensation_attempts`), with the
 *    attempt's dispatch time, backoff, carrier, deadline and circuit wait.
 *    The saga row keeps status, error, the stop request and the deadline.
 *    No index is added to saga_step: the reconciler reaches outstanding
 *    attempts from the active sagas, so step updates stay HOT.
 * 2. Every stored step gets its explicit `kind` ("compensatable", the only
 *    kind before), and its definition's hash is computed again, so posting
 *    an unchanged definition still finds its version.
 */
export class OutstandingAttempts1763800800000 implements MigrationInterface {
  name = 'OutstandingAttempts1763800800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE saga_step
        ADD COLUMN awaiting text,
        ADD COLUMN attempt_base int NOT NULL DEFAULT 0,
        ADD COLUMN not_before timestamptz,
        ADD COLUMN dispatched_at timestamptz,
        ADD COLUMN carrier text,
        ADD COLUMN attempt_deadline timestamptz,
        ADD COLUMN circuit_wait jsonb`);
    await q.query(`
      UPDATE saga_step t
         SET awaiting = s.phase, attempt_base = s.attempt_base, not_before = s.not_before, dispatched_at = s.dispatched_at,
             carrier = s.carrier, attempt_deadline = s.attempt_deadline, circuit_wait = s.circuit_wait
        FROM saga s
       WHERE t.saga_id = s.id AND t.idx = s.cursor AND s.awaiting`);
    // A paused or failed saga's stopped step keeps the budget base its replay counts from.
    await q.query(`
      UPDATE saga_step t SET attempt_base = s.attempt_base
        FROM saga s
       WHERE t.saga_id = s.id AND t.idx = s.cursor AND NOT s.awaiting`);
    await q.query(`
      ALTER TABLE saga
        DROP COLUMN cursor, DROP COLUMN phase, DROP COLUMN attempt, DROP COLUMN attempt_base, DROP COLUMN awaiting,
        DROP COLUMN not_before, DROP COLUMN dispatched_at, DROP COLUMN carrier, DROP COLUMN attempt_deadline, DROP COLUMN circuit_wait`);

    const rows = (await q.query(`SELECT name, version, spec FROM saga_definition`)) as Array<{ name: string; version: number; spec: { steps: Array<Record<string, unknown>> } }>;
    for (const row of rows) {
      const steps = row.spec.steps.map((step) => (step.kind === undefined && !('parallel' in step) ? { name: step.name, kind: 'compensatable', ...step } : step));
      const spec = { ...row.spec, steps };
      await q.query(`UPDATE saga_definition SET spec = $3, spec_hash = $4 WHERE name = $1 AND version = $2`, [
        row.name,
        row.version,
        JSON.stringify(spec),
        createHash('sha256').update(canonicalJson(spec)).digest('hex'),
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to one outstanding attempt: a saga keeps the first of its steps that has one.
    await q.query(`
      ALTER TABLE saga
        ADD COLUMN cursor int NOT NULL DEFAULT 0, ADD COLUMN phase text NOT NULL DEFAULT 'action', ADD COLUMN attempt int NOT NULL DEFAULT 0,
        ADD COLUMN attempt_base int NOT NULL DEFAULT 0, ADD COLUMN awaiting boolean NOT NULL DEFAULT false, ADD COLUMN not_before timestamptz,
        ADD COLUMN dispatched_at timestamptz, ADD COLUMN carrier text, ADD COLUMN attempt_deadline timestamptz, ADD COLUMN circuit_wait jsonb`);
    await q.query(`CREATE INDEX saga_attempt_deadline ON saga (attempt_deadline) WHERE attempt_deadline IS NOT NULL`);
    await q.query(`
      UPDATE saga s
         SET cursor = t.idx, phase = t.awaiting, awaiting = true, attempt_base = t.attempt_base, not_before = t.not_before,
             dispatched_at = t.dispatched_at, carrier = t.carrier, attempt_deadline = t.attempt_deadline, circuit_wait = t.circuit_wait,
             attempt = CASE WHEN t.awaiting = 'action' THEN t.attempts ELSE t.compensation_attempts END
        FROM (SELECT DISTINCT ON (saga_id) * FROM saga_step WHERE awaiting IS NOT NULL ORDER BY saga_id, idx) t
       WHERE t.saga_id = s.id`);
    await q.query(`
      ALTER TABLE saga_step
        DROP COLUMN awaiting, DROP COLUMN attempt_base, DROP COLUMN not_before, DROP COLUMN dispatched_at,
        DROP COLUMN carrier, DROP COLUMN attempt_deadline, DROP COLUMN circuit_wait`);
  }
}
