import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Scope } from './scopes.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: Scope[];
  createdAt: Date;
  createdBy: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `id, name, prefix, hash, scopes, created_at AS "createdAt", created_by AS "createdBy",
                 expires_at AS "expiresAt", revoked_at AS "revokedAt"`;

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(key: Omit<ApiKeyRecord, 'createdAt' | 'revokedAt'>): Promise<ApiKeyRecord> {
    const rows = (await this.dataSource.query(
      `INSERT INTO api_key (id, name, prefix, hash, scopes, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [key.id, key.name, key.prefix, key.hash, key.scopes, key.createdBy, key.expiresAt?.toISOString() ?? null],
    )) as ApiKeyRecord[];
    return rows[0];
  }

  async findByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const rows = (await this.dataSource.query(`SELECT ${COLUMNS} FROM api_key WHERE prefix = $1`, [prefix])) as ApiKeyRecord[];
    return rows[0] ?? null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.dataSource.query(`SELECT ${COLUMNS} FROM api_key ORDER BY created_at, id`)) as ApiKeyRecord[];
  }

  /** Revokes a key (idempotent: a revoked key keeps its first revocation time). */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    const rows = (await this.dataSource.query(
      `UPDATE api_key SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    )) as [ApiKeyRecord[], number];
    return rows[0][0] ?? null;
  }
}
