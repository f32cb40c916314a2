import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Callback and signal steps (SPEC §10, ADR 13).
 *
 * 1. `saga_step.waiting`: the outstanding attempt waits for the outside
 *    world ('callback' once its participant acknowledged the call, 'signal'
 *    while a signal step waits). Its deadline is `attempt_deadline`, set by
 *    the transaction that dispatched it, so a wait of up to 30 days is held
 *    in Postgres, not in a Redis timer. Cleared with the attempt.
 * 2. `saga_callback`: one row per callback token handed to a participant,
 *    keyed by the token's SHA-256 (the token itself is never stored), bound
 *    to one attempt. `answer` is the callback body accepted for it and
 *    `state` what became of it: 'received' (recorded, being applied),
 *    'applied', or 'rejected' (the attempt was no longer outstanding).
 * 3. `saga_signal`: signals a saga received, per run and name; `body` as
 *    sent. `consumed_attempt` is the attempt of the waiting step that took
 *    it (null: kept until the step starts).
 */
export class CallbacksAndSignals1763800900000 implements MigrationInterface {
  name = 'CallbacksAndSignals1763800900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE saga_step ADD COLUMN waiting text`);
    await q.query(`
      CREATE TABLE saga_callback (
        token_hash  bytea PRIMARY KEY,
        saga_id     uuid NOT NULL REFERENCES saga(id) ON DELETE CASCADE,
        run         int NOT NULL,
        step        int NOT NULL,
        phase       text NOT NULL,
        attempt     int NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        answer      jsonb,
        state       text,
        answered_at timestamptz
      )`);
    await q.query(`CREATE INDEX saga_callback_saga ON saga_callback (saga_id)`);
    // The reconciler applies answers recorded by a process that died before applying them.
    await q.query(`CREATE INDEX saga_callback_received ON saga_callback (answered_at) WHERE state = 'received'`);
    await q.query(`
      CREATE TABLE saga_signal (
        saga_id          uuid NOT NULL REFERENCES saga(id) ON DELETE CASCADE,
        run              int NOT NULL,
        name             text NOT NULL,
        seq              int NOT NULL,
        body             jsonb NOT NULL,
        received_at      timestamptz NOT NULL DEFAULT now(),
        consumed_attempt int,
        PRIMARY KEY (saga_id, run, name, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE saga_signal`);
    await q.query(`DROP TABLE saga_callback`);
    await q.query(`ALTER TABLE saga_step DROP COLUMN waiting`);
  }
}
