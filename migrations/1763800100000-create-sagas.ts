import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Saga executions: the saga row (status, the outstanding attempt, a version
 * for guarded updates, the next history seq), one row per step of the current
 * run, the append-only history, and the outbox of work to publish to BullMQ.
 */
export class CreateSagas1763800100000 implements MigrationInterface {
  name = 'CreateSagas1763800100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE saga (
        id                 uuid PRIMARY KEY,
        definition_name    text NOT NULL,
        definition_version int NOT NULL,
        run                int NOT NULL DEFAULT 1,
        status             text NOT NULL,
        input              jsonb NOT NULL,
        correlation_id     text,
        results            jsonb NOT NULL DEFAULT '{}'::jsonb,
        error              jsonb,
        cursor             int NOT NULL DEFAULT 0,
        phase              text NOT NULL DEFAULT 'action',
        attempt            int NOT NULL DEFAULT 0,
        awaiting           boolean NOT NULL DEFAULT false,
        stop_requested     jsonb,
        not_before         timestamptz,
        dispatched_at      timestamptz,
        deadline_at        timestamptz,
        version            int NOT NULL DEFAULT 0,
        next_seq           int NOT NULL DEFAULT 1,
        idempotency_key    text,
        request_hash       text,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        finished_at        timestamptz,
        FOREIGN KEY (definition_name, definition_version) REFERENCES saga_definition (name, version)
      )`);
    await q.query(`CREATE UNIQUE INDEX saga_idempotency_key ON saga (idempotency_key) WHERE idempotency_key IS NOT NULL`);
    // The reconciler's and the timers' scans touch only sagas that are not settled.
    await q.query(`CREATE INDEX saga_active_dispatched ON saga (dispatched_at) WHERE status IN ('RUNNING', 'COMPENSATING')`);
    await q.query(`CREATE INDEX saga_deadline ON saga (deadline_at) WHERE deadline_at IS NOT NULL AND status IN ('RUNNING', 'PAUSED')`);
    await q.query(`CREATE INDEX saga_created ON saga (created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE saga_step (
        saga_id                  uuid NOT NULL REFERENCES saga (id) ON DELETE CASCADE,
        idx                      int NOT NULL,
        name                     text NOT NULL,
        status                   text NOT NULL,
        attempts                 int NOT NULL DEFAULT 0,
        last_attempt_timed_out   boolean NOT NULL DEFAULT false,
        started_at               timestamptz,
        finished_at              timestamptz,
        output                   jsonb,
        error                    jsonb,
        compensation_status      text,
        compensation_attempts    int NOT NULL DEFAULT 0,
        compensation_started_at  timestamptz,
        compensation_finished_at timestamptz,
        compensation_error       jsonb,
        PRIMARY KEY (saga_id, idx)
      )`);
    await q.query(`
      CREATE TABLE saga_event (
        saga_id uuid NOT NULL REFERENCES saga (id) ON DELETE CASCADE,
        seq     int NOT NULL,
        run     int NOT NULL,
        type    text NOT NULL,
        step    text,
        phase   text,
        attempt int,
        at      timestamptz NOT NULL,
        data    jsonb,
        PRIMARY KEY (saga_id, seq)
      )`);
    await q.query(`
      CREATE TABLE saga_outbox (
        id         bigserial PRIMARY KEY,
        saga_id    uuid NOT NULL,
        job        jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE saga_outbox');
    await q.query('DROP TABLE saga_event');
    await q.query('DROP TABLE saga_step');
    await q.query('DROP TABLE saga');
  }
}
