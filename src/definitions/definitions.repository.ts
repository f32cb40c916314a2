import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Batcher } from '../common/batcher.js';
import { DefinitionNameEntity } from './definition-name.entity.js';
import { DefinitionEntity } from './definition.entity.js';
import type { DefinitionSpec } from './definition.model.js';

export interface StoredDefinition {
  entity: DefinitionEntity;
  enabled: boolean;
}

interface DefinitionRow {
  name: string;
  version: number;
  spec: DefinitionSpec;
  spec_hash: string;
  created_at: Date;
  enabled: boolean;
}

function toStored(r: DefinitionRow): StoredDefinition {
  const entity = Object.assign(new DefinitionEntity(), { name: r.name, version: r.version, spec: r.spec, specHash: r.spec_hash, createdAt: r.created_at });
  return { entity, enabled: r.enabled };
}

/** Versioned storage of definitions. Version numbers are allocated under the name row's lock. */
@Injectable()
export class DefinitionsRepository {
  private readonly latestReads = new Batcher<string, StoredDefinition | null>((names) => this.findLatestMany(names), { maxBatch: 100, maxInFlight: 2 });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores `spec` as the next version of `name`, unless it is identical to the
   * latest version (then that version is returned, and the name re-enabled).
   */
  async register(name: string, spec: DefinitionSpec, specHash: string): Promise<StoredDefinition & { created: boolean }> {
    return this.dataSource.transaction(async (em) => {
      await em.query(
        'INSERT INTO saga_definition_name (name, latest_version) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING',
        [name],
      );
      const [row] = (await em.query(
        'SELECT latest_version, enabled FROM saga_definition_name WHERE name = $1 FOR UPDATE',
        [name],
      )) as Array<{ latest_version: number; enabled: boolean }>;
      const latest = await em.findOneBy(DefinitionEntity, { name, version: row.latest_version });
      if (latest && latest.specHash === specHash) {
        if (!row.enabled) await this.setEnabled(em, name, true);
        return { entity: latest, enabled: true, created: false };
      }
      const version = row.latest_version + 1;
      const entity = await em.save(em.create(DefinitionEntity, { name, version, spec, specHash }));
      await em.query(
        'UPDATE saga_definition_name SET latest_version = $2, enabled = true, updated_at = now() WHERE name = $1',
        [name, version],
      );
      return { entity, enabled: true, created: true };
    });
  }

  /** The latest version of `name` and whether the name is enabled. Every trigger reads this, so concurrent reads share a query. */
  findLatest(name: string): Promise<StoredDefinition | null> {
    return this.latestReads.submit(name);
  }

  private async findLatestMany(names: string[]): Promise<Array<StoredDefinition | null>> {
    const rows = (await this.dataSource.query(
      `SELECT d.name, d.version, d.spec, d.spec_hash, d.created_at, n.enabled
         FROM saga_definition_name n
         JOIN saga_definition d ON d.name = n.name AND d.version = n.latest_version
        WHERE n.name = ANY($1::text[])`,
      [[...new Set(names)]],
    )) as DefinitionRow[];
    const byName = new Map(rows.map((r) => [r.name, r]));
    return names.map((name) => (byName.has(name) ? toStored(byName.get(name)!) : null));
  }

  async findVersion(name: string, version: number): Promise<StoredDefinition | null> {
    const rows = (await this.dataSource.query(
      `SELECT d.name, d.version, d.spec, d.spec_hash, d.created_at, n.enabled
         FROM saga_definition_name n
         JOIN saga_definition d ON d.name = n.name AND d.version = $2
        WHERE n.name = $1`,
      [name, version],
    )) as DefinitionRow[];
    return rows.length ? toStored(rows[0]) : null;
  }

  /** All versions of `name`, oldest first; null when the name is unknown. */
  async findVersions(name: string): Promise<StoredDefinition[] | null> {
    const nameRow = await this.dataSource.manager.findOneBy(DefinitionNameEntity, { name });
    if (!nameRow) return null;
    const entities = await this.dataSource.manager.find(DefinitionEntity, { where: { name }, order: { version: 'ASC' } });
    return entities.map((entity) => ({ entity, enabled: nameRow.enabled }));
  }

  /** The latest version of each name, ordered by name, after `afterName` (keyset pagination). */
  async listLatest(afterName: string | null, limit: number): Promise<StoredDefinition[]> {
    const rows = (await this.dataSource.query(
      `SELECT d.name, d.version, d.spec, d.spec_hash, d.created_at, n.enabled
         FROM saga_definition_name n
         JOIN saga_definition d ON d.name = n.name AND d.version = n.latest_version
        WHERE ($1::text IS NULL OR n.name > $1)
        ORDER BY n.name
        LIMIT $2`,
      [afterName, limit],
    )) as DefinitionRow[];
    return rows.map(toStored);
  }

  /** Disables `name`; returns false when the name is unknown. */
  async disable(name: string): Promise<boolean> {
    return this.setEnabled(this.dataSource.manager, name, false);
  }

  private async setEnabled(em: EntityManager, name: string, enabled: boolean): Promise<boolean> {
    const [, affected] = (await em.query(
      'UPDATE saga_definition_name SET enabled = $2, updated_at = now() WHERE name = $1 AND latest_version > 0',
      [name, enabled],
    )) as [unknown, number];
    return affected > 0;
  }
}
