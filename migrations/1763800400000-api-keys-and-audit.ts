import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (only a SHA-256 of each key is stored; `prefix` is the visible,
 * unique part used to find a key) and the audit trail of changes made with
 * them: definitions, replays, cancels and keys.
 */
export class ApiKeysAndAudit1763800400000 implements MigrationInterface {
  name = 'ApiKeysAndAudit1763800400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_key (
        id         uuid PRIMARY KEY,
        name       text NOT NULL,
        prefix     text NOT NULL UNIQUE,
        hash       text NOT NULL,
        scopes     text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text,
        expires_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE audit_log (
        id      bigserial PRIMARY KEY,
        at      timestamptz NOT NULL DEFAULT now(),
        actor   text NOT NULL,
        action  text NOT NULL,
        target  text NOT NULL,
        details jsonb
      )`);
    await q.query(`CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
    await q.query('DROP TABLE api_key');
  }
}
