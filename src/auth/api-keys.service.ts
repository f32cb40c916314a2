import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, ErrorCode } from '../common/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { ApiKeyRecord, ApiKeysRepository } from './api-keys.repository.js';
import { AuditLog } from './audit.js';
import { Principal, Scope, SCOPES } from './scopes.js';

/** `sk_` + 8 visible hex characters (unique, used to find the key) + `_` + 32 random bytes in base64url. */
const KEY_FORMAT = /^sk_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$/;
/** A verified key is trusted for this long per instance; a revocation reaches other instances within it. */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

function view(k: ApiKeyRecord): ApiKeyView {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAt: k.createdAt.toISOString(),
    createdBy: k.createdBy,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * API keys: made of 32 random bytes, shown once, stored as a SHA-256 hash
 * (the key's entropy makes a slow hash unnecessary), compared in constant
 * time, with expiry and revocation. The bootstrap admin key comes from
 * configuration and is never stored.
 */
@Injectable()
export class ApiKeysService {
  private readonly bootstrapHash: Buffer | null;
  private readonly cache = new Map<string, { principal: Principal | null; until: number; expiresAt: number | null }>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditLog,
    config: AppConfig,
  ) {
    this.bootstrapHash = config.bootstrapAdminKey ? sha256(config.bootstrapAdminKey) : null;
  }

  async create(input: { name: string; scopes: Scope[]; expiresAt: Date | null }, by: Principal): Promise<ApiKeyView & { key: string }> {
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw AppError.validation([{ path: 'expiresAt', pointer: '/expiresAt', message: 'must be in the future' }]);
    }
    const prefix = randomBytes(4).toString('hex');
    const key = `sk_${prefix}_${randomBytes(32).toString('base64url')}`;
    const record = await this.keys.insert({
      id: randomUUID(),
      name: input.name,
      prefix: `sk_${prefix}`,
      hash: sha256(key).toString('hex'),
      scopes: [...new Set(input.scopes)].sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b)),
      createdBy: by.name,
      expiresAt: input.expiresAt,
    });
    await this.audit.record(by.name, 'key.create', record.id, { name: record.name, scopes: record.scopes, expiresAt: input.expiresAt?.toISOString() ?? null });
    return { ...view(record), key };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.list()).map(view);
  }

  async revoke(id: string, by: Principal): Promise<ApiKeyView> {
    const record = /^[0-9a-f-]{36}$/i.test(id) ? await this.keys.revoke(id) : null;
    if (!record) throw new AppError(ErrorCode.KEY_NOT_FOUND, `No API key with id "${id}".`, { keyId: id });
    for (const [hash, entry] of this.cache) if (entry.principal?.id === id) this.cache.delete(hash);
    await this.audit.record(by.name, 'key.revoke', record.id, { name: record.name });
    return view(record);
  }

  /**
   * The principal of a key verified lately (or the bootstrap key), without a
   * lookup; undefined when it must be looked up, null when it was refused lately.
   */
  recentlyVerified(presented: string, hash: Buffer = sha256(presented)): Principal | null | undefined {
    if (this.bootstrapHash && timingSafeEqual(hash, this.bootstrapHash)) return { id: 'bootstrap', name: 'bootstrap', scopes: SCOPES };
    const now = Date.now();
    const cached = this.cache.get(hash.toString('hex'));
    if (cached && cached.until > now && (cached.expiresAt === null || cached.expiresAt > now)) return cached.principal;
    return undefined;
  }

  /** The principal a presented key stands for, or null when it is unknown, expired or revoked. */
  async verify(presented: string): Promise<Principal | null> {
    // Hashed once, for the recent check and the lookup alike.
    const hash = sha256(presented);
    const recent = this.recentlyVerified(presented, hash);
    if (recent !== undefined) return recent;
    const cacheKey = hash.toString('hex');
    const now = Date.now();
    const match = KEY_FORMAT.exec(presented);
    let principal: Principal | null = null;
    let expiresAt: number | null = null;
    if (match) {
      const record = await this.keys.findByPrefix(`sk_${match[1]}`);
      if (record && timingSafeEqual(hash, Buffer.from(record.hash, 'hex'))) {
        expiresAt = record.expiresAt?.getTime() ?? null;
        const usable = !record.revokedAt && (expiresAt === null || expiresAt > now);
        if (usable) principal = { id: record.id, name: record.name, scopes: record.scopes };
      }
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, { principal, until: now + CACHE_TTL_MS, expiresAt });
    return principal;
  }
}
