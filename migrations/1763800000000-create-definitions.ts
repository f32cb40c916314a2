import { MigrationInterface, QueryRunner } from 'typeorm';

/** Versioned saga definitions: a name row (latest version, enabled) and immutable versions. */
export class CreateDefinitions1763800000000 implements MigrationInterface {
  name = 'CreateDefinitions1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE saga_definition_name (
        name           text PRIMARY KEY,
        latest_version int NOT NULL CHECK (latest_version >= 0),
        enabled        boolean NOT NULL DEFAULT true,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE saga_definition (
        name       text NOT NULL REFERENCES saga_definition_name (name),
        version    int NOT NULL CHECK (version >= 1),
        spec       jsonb NOT NULL,
        spec_hash  text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE saga_definition');
    await q.query('DROP TABLE saga_definition_name');
  }
}
