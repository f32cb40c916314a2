import { Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';
import { isSettled, SagaStatus } from '../engine/statuses.js';
import { SAGA_STATUSES } from './dto/list-sagas.query.js';
import { ExecutionsService } from './executions.service.js';
import { SagaNotifications } from './saga-notifications.js';
import type { SagaListFilter, SagaListPosition, SagaRecord } from './saga.records.js';
import { SagaReads } from './saga-reads.js';
import { SagaRepository } from './saga.repository.js';
import { toSagaSummaryView, type SagaSummaryView } from './saga.view.js';

/** SPEC §4: `waitMs` is at most a minute. */
export const MAX_WAIT_MS = 60_000;
/** Counts over every saga are a scan; dashboards polling them share one per instance for this long. */
const STATS_TTL_MS = 2_000;

export type StatusCounts = Record<SagaStatus, number>;

export interface SagaStats {
  total: number;
  byStatus: StatusCounts;
  byDefinition: Array<{ definition: string; total: number; byStatus: StatusCounts }>;
  /** When these counts were taken (they are cached for up to 2 s). */
  at: string;
}

/** The read side of sagas: the list, the counts, and waiting for a saga to settle. */
@Injectable()
export class SagaQueriesService {
  private stats: { at: number; value: Promise<SagaStats> } | null = null;

  constructor(
    private readonly sagas: SagaRepository,
    private readonly reads: SagaReads,
    private readonly executions: ExecutionsService,
    private readonly notifications: SagaNotifications,
  ) {}

  async list(filter: SagaListFilter, cursor: string | undefined, limit: number): Promise<{ items: SagaSummaryView[]; nextCursor: string | null }> {
    let position: SagaListPosition | null = null;
    if (cursor !== undefined) {
      position = decodeSagaCursor(cursor);
      if (!position) throw AppError.validation([fieldError(['cursor'], 'is not a cursor returned by this endpoint')]);
    }
    const rows = await this.reads.list(filter, position, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toSagaSummaryView),
      nextCursor: rows.length > limit ? encodeSagaCursor({ createdUs: last.createdUs, id: last.id }) : null,
    };
  }

  getStats(): Promise<SagaStats> {
    const now = Date.now();
    if (!this.stats || now - this.stats.at > STATS_TTL_MS) {
      const value = this.countAll();
      this.stats = { at: now, value };
      value.catch(() => {
        if (this.stats?.value === value) this.stats = null;
      });
    }
    return this.stats.value;
  }

  private async countAll(): Promise<SagaStats> {
    const rows = await this.reads.counts();
    const zero = (): StatusCounts => Object.fromEntries(SAGA_STATUSES.map((s) => [s, 0])) as StatusCounts;
    const stats: SagaStats = { total: 0, byStatus: zero(), byDefinition: [], at: new Date().toISOString() };
    const byDefinition = new Map<string, SagaStats['byDefinition'][number]>();
    for (const row of rows) {
      let entry = byDefinition.get(row.definition);
      if (!entry) {
        entry = { definition: row.definition, total: 0, byStatus: zero() };
        byDefinition.set(row.definition, entry);
        stats.byDefinition.push(entry);
      }
      entry.byStatus[row.status] += row.count;
      entry.total += row.count;
      stats.byStatus[row.status] += row.count;
      stats.total += row.count;
    }
    return stats;
  }

  /**
   * The saga once it is settled (terminal, PAUSED or FAILED) or when `waitMs`
   * has passed, whichever comes first. Reads the saga once, then again only
   * when a notification says it settled (or at the end): no polling.
   */
  async waitSettled(id: string, waitMs: number): Promise<SagaRecord> {
    const deadline = Date.now() + waitMs;
    const subscription = this.notifications.subscribe(id);
    try {
      let saga = await this.executions.get(id);
      while (!isSettled(saga.status)) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await subscription.next(left);
        saga = await this.executions.get(id);
      }
      return saga;
    } finally {
      subscription.close();
    }
  }
}

/** Opaque to clients: base64url of "createdUs.id". */
export function encodeSagaCursor(position: SagaListPosition): string {
  return Buffer.from(`${position.createdUs}.${position.id}`).toString('base64url');
}

const CURSOR = /^(-?\d{1,19})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function decodeSagaCursor(cursor: string): SagaListPosition | null {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? { createdUs: match[1], id: match[2] } : null;
}
