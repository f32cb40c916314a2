import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { HistoryEventDraft, SagaError, SagaPatch, StepPatch } from '../engine/saga-state.js';
import type { CompensationStatus, Phase, SagaStatus, StepStatus } from '../engine/statuses.js';
import type { StepJob } from '../dispatch/step-job.js';

export interface StepRecord {
  index: number;
  name: string;
  status: StepStatus;
  attempts: number;
  lastAttemptTimedOut: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: Record<string, unknown> | null;
  compensationStatus: CompensationStatus | null;
  compensationAttempts: number;
  compensationStartedAt: string | null;
  compensationFinishedAt: string | null;
  compensationError: Record<string, unknown> | null;
}

/** A saga row with its steps, as read in one query. */
export interface SagaRecord {
  id: string;
  definitionName: string;
  definitionVersion: number;
  run: number;
  status: SagaStatus;
  input: unknown;
  correlationId: string | null;
  results: Record<string, unknown>;
  error: SagaError | null;
  cursor: number;
  phase: Phase;
  attempt: number;
  awaiting: boolean;
  stopRequested: SagaError | null;
  notBefore: Date | null;
  deadlineAt: Date | null;
  version: number;
  nextSeq: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  steps: StepRecord[];
}

export interface EventRecord {
  seq: number;
  run: number;
  type: string;
  step: string | null;
  phase: string | null;
  attempt: number | null;
  at: Date;
  data: Record<string, unknown> | null;
}

export interface NewSaga {
  id: string;
  definitionName: string;
  definitionVersion: number;
  input: unknown;
  correlationId: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  deadlineAt: Date | null;
  stepNames: string[];
}

const SELECT_SAGA = `
  SELECT s.id, s.definition_name AS "definitionName", s.definition_version AS "definitionVersion", s.run, s.status,
         s.input, s.correlation_id AS "correlationId", s.results, s.error, s.cursor, s.phase, s.attempt, s.awaiting,
         s.stop_requested AS "stopRequested", s.not_before AS "notBefore", s.deadline_at AS "deadlineAt", s.version,
         s.next_seq AS "nextSeq", s.idempotency_key AS "idempotencyKey", s.request_hash AS "requestHash",
         s.created_at AS "createdAt", s.updated_at AS "updatedAt", s.finished_at AS "finishedAt",
         (SELECT coalesce(json_agg(json_build_object(
             'index', t.idx, 'name', t.name, 'status', t.status, 'attempts', t.attempts,
             'lastAttemptTimedOut', t.last_attempt_timed_out, 'startedAt', t.started_at, 'finishedAt', t.finished_at,
             'output', t.output, 'error', t.error, 'compensationStatus', t.compensation_status,
             'compensationAttempts', t.compensation_attempts, 'compensationStartedAt', t.compensation_started_at,
             'compensationFinishedAt', t.compensation_finished_at, 'compensationError', t.compensation_error)
           ORDER BY t.idx), '[]'::json)
            FROM saga_step t WHERE t.saga_id = s.id) AS steps
    FROM saga s`;

/** One event row per draft, numbered from `firstSeq`. */
function eventRows(drafts: HistoryEventDraft[], firstSeq: number, run: number, at: Date) {
  return drafts.map((e, i) => ({
    seq: firstSeq + i,
    run,
    type: e.type,
    step: e.step ?? null,
    phase: e.phase ?? null,
    attempt: e.attempt ?? null,
    at: at.toISOString(),
    data: e.data ?? null,
  }));
}

const INSERT_EVENTS = `
  INSERT INTO saga_event (saga_id, seq, run, type, step, phase, attempt, at, data)
  SELECT s.id, x.seq, x.run, x.type, x.step, x.phase, x.attempt, x.at, x.data
    FROM s, jsonb_to_recordset($EVENTS::jsonb)
      AS x(seq int, run int, type text, step text, phase text, attempt int, at timestamptz, data jsonb)`;

const INSERT_OUTBOX = `
  INSERT INTO saga_outbox (saga_id, job)
  SELECT s.id, x.job FROM s, jsonb_array_elements($JOBS::jsonb) AS x(job)
  RETURNING id`;

/**
 * Storage of saga executions. Every write is one statement: the saga update is
 * guarded by its version, and the step, history and outbox writes only happen
 * when it matched, so a transition is applied completely or not at all.
 */
@Injectable()
export class SagaRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(id: string): Promise<SagaRecord | null> {
    const rows = (await this.dataSource.query(`${SELECT_SAGA} WHERE s.id = $1`, [id])) as SagaRecord[];
    return rows[0] ?? null;
  }

  async findByIdempotencyKey(key: string): Promise<SagaRecord | null> {
    const rows = (await this.dataSource.query(`${SELECT_SAGA} WHERE s.idempotency_key = $1`, [key])) as SagaRecord[];
    return rows[0] ?? null;
  }

  /**
   * Inserts a new saga with its steps, first events and first work, unless its
   * idempotency key is taken (then returns null and writes nothing).
   */
  async insert(saga: NewSaga, state: SagaPatch, steps: Map<number, StepPatch>, events: HistoryEventDraft[], jobs: StepJob[], now: Date): Promise<string[] | null> {
    const stepRows = saga.stepNames.map((name, idx) => ({
      idx,
      name,
      status: steps.get(idx)?.status ?? 'PENDING',
      attempts: steps.get(idx)?.attempts ?? 0,
      started_at: steps.get(idx)?.startedAt?.toISOString() ?? null,
    }));
    const sql = `
      WITH s AS (
        INSERT INTO saga (id, definition_name, definition_version, status, input, correlation_id, cursor, phase, attempt,
                          awaiting, dispatched_at, deadline_at, next_seq, idempotency_key, request_hash, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $11, $11)
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, run
      ), st AS (
        INSERT INTO saga_step (saga_id, idx, name, status, attempts, started_at)
        SELECT s.id, x.idx, x.name, x.status, x.attempts, x.started_at
          FROM s, jsonb_to_recordset($16::jsonb) AS x(idx int, name text, status text, attempts int, started_at timestamptz)
      ), e AS (${INSERT_EVENTS.replace('$EVENTS', '$17')}
      ), o AS (${INSERT_OUTBOX.replace('$JOBS', '$18')})
      SELECT (SELECT count(*) FROM s)::int AS inserted, (SELECT coalesce(array_agg(id::text), '{}') FROM o) AS "outboxIds"`;
    const [row] = (await this.dataSource.query(sql, [
      saga.id,
      saga.definitionName,
      saga.definitionVersion,
      state.status,
      JSON.stringify(saga.input),
      saga.correlationId,
      state.cursor ?? 0,
      state.phase ?? 'action',
      state.attempt ?? 0,
      state.awaiting ?? false,
      now.toISOString(),
      saga.deadlineAt?.toISOString() ?? null,
      1 + events.length,
      saga.idempotencyKey,
      saga.requestHash,
      JSON.stringify(stepRows),
      JSON.stringify(eventRows(events, 1, 1, now)),
      JSON.stringify(jobs),
    ])) as Array<{ inserted: number; outboxIds: string[] }>;
    return row.inserted === 1 ? row.outboxIds : null;
  }

  /**
   * Applies one decision if the saga is still at `record.version`. Returns the
   * ids of the outbox rows written, or null when another writer got there first.
   */
  async update(
    record: SagaRecord,
    saga: SagaPatch,
    steps: Map<number, StepPatch>,
    results: Record<string, unknown>,
    events: HistoryEventDraft[],
    jobs: StepJob[],
    now: Date,
  ): Promise<string[] | null> {
    const has = (key: keyof SagaPatch) => Object.prototype.hasOwnProperty.call(saga, key);
    const stepPatches = [...steps.entries()].map(([index, p]) => ({ index, ...p }));
    const sql = `
      WITH s AS (
        UPDATE saga SET
          status = coalesce($3, status),
          cursor = coalesce($4, cursor),
          phase = coalesce($5, phase),
          attempt = coalesce($6, attempt),
          awaiting = coalesce($7, awaiting),
          stop_requested = CASE WHEN $8 THEN $9::jsonb ELSE stop_requested END,
          error = CASE WHEN $10 THEN $11::jsonb ELSE error END,
          results = results || $12::jsonb,
          finished_at = coalesce($13, finished_at),
          dispatched_at = CASE WHEN $14 THEN $15::timestamptz ELSE dispatched_at END,
          not_before = CASE WHEN $14 THEN $16::timestamptz ELSE not_before END,
          next_seq = next_seq + $17,
          version = version + 1,
          updated_at = $15
        WHERE id = $1 AND version = $2
        RETURNING id, run
      ), st AS (
        UPDATE saga_step t SET
          status = coalesce(p->>'status', t.status),
          attempts = coalesce((p->>'attempts')::int, t.attempts),
          last_attempt_timed_out = coalesce((p->>'lastAttemptTimedOut')::boolean, t.last_attempt_timed_out),
          started_at = coalesce((p->>'startedAt')::timestamptz, t.started_at),
          finished_at = coalesce((p->>'finishedAt')::timestamptz, t.finished_at),
          output = CASE WHEN p ? 'output' THEN p->'output' ELSE t.output END,
          error = CASE WHEN p ? 'error' THEN p->'error' ELSE t.error END,
          compensation_status = coalesce(p->>'compensationStatus', t.compensation_status),
          compensation_attempts = coalesce((p->>'compensationAttempts')::int, t.compensation_attempts),
          compensation_started_at = coalesce((p->>'compensationStartedAt')::timestamptz, t.compensation_started_at),
          compensation_finished_at = coalesce((p->>'compensationFinishedAt')::timestamptz, t.compensation_finished_at),
          compensation_error = CASE WHEN p ? 'compensationError' THEN p->'compensationError' ELSE t.compensation_error END
        FROM s, jsonb_array_elements($18::jsonb) AS p
        WHERE t.saga_id = s.id AND t.idx = (p->>'index')::int
      ), e AS (${INSERT_EVENTS.replace('$EVENTS', '$19')}
      ), o AS (${INSERT_OUTBOX.replace('$JOBS', '$20')})
      SELECT (SELECT count(*) FROM s)::int AS updated, (SELECT coalesce(array_agg(id::text), '{}') FROM o) AS "outboxIds"`;
    const dispatching = jobs.length > 0;
    const [row] = (await this.dataSource.query(sql, [
      record.id,
      record.version,
      saga.status ?? null,
      saga.cursor ?? null,
      saga.phase ?? null,
      saga.attempt ?? null,
      saga.awaiting ?? null,
      has('stopRequested'),
      JSON.stringify(saga.stopRequested ?? null),
      has('error'),
      JSON.stringify(saga.error ?? null),
      JSON.stringify(results),
      saga.finishedAt?.toISOString() ?? null,
      dispatching,
      now.toISOString(),
      jobs[0]?.notBefore ?? null,
      events.length,
      JSON.stringify(stepPatches),
      JSON.stringify(eventRows(events, record.nextSeq, record.run, now)),
      JSON.stringify(jobs),
    ])) as Array<{ updated: number; outboxIds: string[] }>;
    return row.updated === 1 ? row.outboxIds : null;
  }

  async events(sagaId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    return (await this.dataSource.query(
      `SELECT seq, run, type, step, phase, attempt, at, data FROM saga_event
        WHERE saga_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [sagaId, afterSeq, limit],
    )) as EventRecord[];
  }
}
