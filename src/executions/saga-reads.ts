import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SagaStatus } from '../engine/statuses.js';
import type { EventRecord, SagaListFilter, SagaListPosition, SagaSummaryRecord } from './saga.records.js';

/** Every status, valid as a SQL literal (the list names several statuses literally so the planner can match partial indexes). */
const STATUS_LITERAL = /^[A-Z_]+$/;

/** The read side of saga storage: the saga list, counts and history pages (whole sagas are read by SagaRepository). */
@Injectable()
export class SagaReads {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One page of sagas, newest first by (created_at, id), after `position`.
   * Each filter has an index that yields this order (migration
   * 1763800300000), so a page reads about `limit` index entries.
   */
  async list(filter: SagaListFilter, position: SagaListPosition | null, limit: number): Promise<SagaSummaryRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.statuses?.length === 1) where.push(`s.status = ${param(filter.statuses[0])}`);
    else if (filter.statuses?.length) {
      if (!filter.statuses.every((st) => STATUS_LITERAL.test(st))) throw new Error('invalid status');
      where.push(`s.status IN (${filter.statuses.map((st) => `'${st}'`).join(', ')})`);
    }
    if (filter.definition !== undefined) where.push(`s.definition_name = ${param(filter.definition)}`);
    if (filter.correlationId !== undefined) where.push(`s.correlation_id = ${param(filter.correlationId)}`);
    if (filter.createdFrom) where.push(`s.created_at >= ${param(filter.createdFrom.toISOString())}`);
    if (filter.createdTo) where.push(`s.created_at < ${param(filter.createdTo.toISOString())}`);
    if (filter.errorCodes?.length) where.push(`s.error->>'code' = ANY(${param(filter.errorCodes)}::text[])`);
    if (filter.excludeErrorCodes?.length) where.push(`(s.error->>'code' IS NULL OR s.error->>'code' <> ALL(${param(filter.excludeErrorCodes)}::text[]))`);
    if (position) {
      where.push(
        `(s.created_at, s.id) < (timestamptz 'epoch' + ${param(position.createdUs)}::bigint * interval '1 microsecond', ${param(position.id)}::uuid)`,
      );
    }
    return (await this.dataSource.query(
      `SELECT s.id, s.definition_name AS "definitionName", s.definition_version AS "definitionVersion", s.run, s.status,
              s.correlation_id AS "correlationId", s.error, t.name AS "currentStep", t.phase,
              s.created_at AS "createdAt", s.updated_at AS "updatedAt", s.finished_at AS "finishedAt",
              (extract(epoch FROM s.created_at) * 1000000)::bigint::text AS "createdUs"
         FROM saga s
         -- The step it is at: the furthest with an outstanding attempt, else the furthest that failed
         -- (or whose compensation did), else the furthest that moved.
         LEFT JOIN LATERAL (
           SELECT t.name, coalesce(t.awaiting, CASE WHEN t.compensation_status IS NOT NULL THEN 'compensation' ELSE 'action' END) AS phase
             FROM saga_step t WHERE t.saga_id = s.id AND t.status <> 'PENDING'
            ORDER BY t.awaiting IS NULL, t.status NOT IN ('FAILED', 'COMPENSATION_FAILED'), t.idx DESC
            LIMIT 1) t ON true
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT ${param(limit)}`,
      params,
    )) as SagaSummaryRecord[];
  }

  /** Saga counts per definition and status. */
  async counts(): Promise<Array<{ definition: string; status: SagaStatus; count: number }>> {
    return (await this.dataSource.query(
      `SELECT definition_name AS definition, status, count(*)::int AS count FROM saga GROUP BY 1, 2 ORDER BY 1, 2`,
    )) as Array<{ definition: string; status: SagaStatus; count: number }>;
  }

  async events(sagaId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    return (await this.dataSource.query(
      `SELECT seq, run, type, step, phase, attempt, at, data FROM saga_event
        WHERE saga_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [sagaId, afterSeq, limit],
    )) as EventRecord[];
  }
}
