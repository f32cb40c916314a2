import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { HistoryEventDraft, SagaError, SagaPatch, StepPatch } from '../engine/saga-state.js';
import type { CompensationStatus, Phase, SagaStatus, StepStatus } from '../engine/statuses.js';
import type { StepJob, StepJobData } from '../dispatch/step-job.js';
import { Batcher } from '../common/batcher.js';
import { RecentMap } from '../common/recent-map.js';
import { preparedQuery } from '../database/prepared.js';
import { dispatchOf, patchRecord, type Transition } from './patch-record.js';
import { SAGA_FIELDS, setClauses, STEP_FIELDS } from './patch-fields.js';
import { Outbox } from '../dispatch/outbox.js';
import { SETTLED_CHANNEL } from './saga-notifications.js';

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
  attemptBase: number;
  awaiting: boolean;
  stopRequested: SagaError | null;
  /** The outstanding attempt waits on its host's open circuit (cleared by the next transition). */
  circuitWait: { host: string; until: string } | null;
  /** The BullMQ job whose worker carries the outstanding attempt on (eager steps), or null when it has a job of its own. */
  carrier: string | null;
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

/** A step timestamp as JavaScript's toISOString() writes it (UTC, milliseconds, Z), as the in-memory copies hold them. */
const isoText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const SELECT_SAGA = `
  SELECT s.id, s.definition_name AS "definitionName", s.definition_version AS "definitionVersion", s.run, s.status,
         s.input, s.correlation_id AS "correlationId", s.results, s.error, s.cursor, s.phase, s.attempt,
         s.attempt_base AS "attemptBase", s.awaiting, s.circuit_wait AS "circuitWait", s.carrier,
         s.stop_requested AS "stopRequested", s.not_before AS "notBefore", s.deadline_at AS "deadlineAt", s.version,
         s.next_seq AS "nextSeq", s.idempotency_key AS "idempotencyKey", s.request_hash AS "requestHash",
         s.created_at AS "createdAt", s.updated_at AS "updatedAt", s.finished_at AS "finishedAt",
         (SELECT coalesce(json_agg(json_build_object(
             'index', t.idx, 'name', t.name, 'status', t.status, 'attempts', t.attempts,
             'lastAttemptTimedOut', t.last_attempt_timed_out, 'startedAt', ${isoText('t.started_at')}, 'finishedAt', ${isoText('t.finished_at')},
             'output', t.output, 'error', t.error, 'compensationStatus', t.compensation_status,
             'compensationAttempts', t.compensation_attempts, 'compensationStartedAt', ${isoText('t.compensation_started_at')},
             'compensationFinishedAt', ${isoText('t.compensation_finished_at')}, 'compensationError', t.compensation_error)
           ORDER BY t.idx), '[]'::json)
            FROM saga_step t WHERE t.saga_id = s.id) AS steps
    FROM saga s`;

const SELECT_SAGAS_BY_ID = `${SELECT_SAGA} WHERE s.id = ANY($1::uuid[])`;

/** The saga exactly as `insert` stores it, so the trigger can answer without reading it back. */
export function newSagaRecord(saga: NewSaga, state: SagaPatch, steps: Map<number, StepPatch>, eventCount: number, now: Date): SagaRecord {
  const { stepNames, ...fields } = saga;
  return {
    ...fields,
    run: 1,
    status: state.status!,
    results: {},
    error: null,
    cursor: state.cursor ?? 0,
    phase: state.phase ?? 'action',
    attempt: state.attempt ?? 0,
    attemptBase: 0,
    circuitWait: null,
    carrier: null,
    awaiting: state.awaiting ?? false,
    stopRequested: null,
    notBefore: null,
    version: 0,
    nextSeq: 1 + eventCount,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    steps: stepNames.map((name, index) => ({
      index,
      name,
      status: steps.get(index)?.status ?? 'PENDING',
      attempts: steps.get(index)?.attempts ?? 0,
      lastAttemptTimedOut: false,
      startedAt: steps.get(index)?.startedAt?.toISOString() ?? null,
      finishedAt: null,
      output: null,
      error: null,
      compensationStatus: null,
      compensationAttempts: 0,
      compensationStartedAt: null,
      compensationFinishedAt: null,
      compensationError: null,
    })),
  };
}

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

/**
 * History and outbox rows of the sagas in `s` that the statement wrote, from
 * each item's `events` and `jobs`; `extra` adds output columns.
 */
const writeEventsAndOutbox = (extra = '') => `
  e AS (
    INSERT INTO saga_event (saga_id, seq, run, type, step, phase, attempt, at, data)
    SELECT s.id, ev.seq, ev.run, ev.type, ev.step, ev.phase, ev.attempt, ev.at, ev.data
      FROM s JOIN x ON x.id = s.id,
           jsonb_to_recordset(x.p->'events') AS ev(seq int, run int, type text, step text, phase text, attempt int, at timestamptz, data jsonb)
  ), o AS (
    INSERT INTO saga_outbox (saga_id, job)
    SELECT s.id, j FROM s JOIN x ON x.id = s.id, jsonb_array_elements(x.p->'jobs') AS j
    RETURNING id, saga_id
  )
  SELECT (SELECT coalesce(json_agg(s.id), '[]') FROM s) AS written,
         (SELECT coalesce(json_agg(json_build_object('id', o.id::text, 'saga', o.saga_id)), '[]') FROM o) AS outbox${extra}`;

/** Sagas this statement settled wake the requests waiting on them, on every instance, once it commits (see SagaNotifications). */
const NOTIFY_SETTLED = `,
         (SELECT count(pg_notify('${SETTLED_CHANNEL}', s.id::text)) FROM s
           WHERE s.status IN ('COMPLETED', 'COMPENSATED', 'PAUSED', 'FAILED')) AS notified`;

/**
 * The items of a batched statement: one jsonb object `p` per saga. Outbox
 * rows already published ($2, see Outbox.takeDeletes) are deleted by the same statement.
 */
const ITEMS = `x AS (SELECT (value->>'id')::uuid AS id, value AS p FROM jsonb_array_elements($1::jsonb)),
  published AS (DELETE FROM saga_outbox WHERE id = ANY($2::bigint[]))`;

/**
 * Inserts new sagas. An item with `latestOf` was started on the latest
 * version of that definition as this process last read it: it is inserted
 * only while that version is still the latest and the name enabled, checked
 * in the same statement (so the trigger needs no read of its own); otherwise
 * it is reported in `moved`.
 */
const INSERT_SQL = `
  WITH ${ITEMS}, current AS (
    SELECT x.id FROM x LEFT JOIN saga_definition_name n ON n.name = x.p->>'latestOf'
     WHERE NOT (x.p ? 'latestOf') OR (n.latest_version = (x.p->>'definitionVersion')::int AND n.enabled)
  ), s AS (
    INSERT INTO saga (id, definition_name, definition_version, status, input, correlation_id, cursor, phase, attempt,
                      awaiting, dispatched_at, attempt_deadline, deadline_at, next_seq, idempotency_key, request_hash, created_at, updated_at)
    SELECT x.id, p->>'definitionName', (p->>'definitionVersion')::int, p->>'status', p->'input', p->>'correlationId',
           (p->>'cursor')::int, p->>'phase', (p->>'attempt')::int, (p->>'awaiting')::boolean, (p->>'now')::timestamptz,
           (p->>'attemptDeadline')::timestamptz, (p->>'deadlineAt')::timestamptz, (p->>'nextSeq')::int, p->>'idempotencyKey', p->>'requestHash',
           (p->>'now')::timestamptz, (p->>'now')::timestamptz
      FROM x WHERE x.id IN (SELECT id FROM current)
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
  ), st AS (
    INSERT INTO saga_step (saga_id, idx, name, status, attempts, started_at)
    SELECT s.id, t.idx, t.name, t.status, t.attempts, t.started_at
      FROM s JOIN x ON x.id = s.id,
           jsonb_to_recordset(x.p->'steps') AS t(idx int, name text, status text, attempts int, started_at timestamptz)
  ), ${writeEventsAndOutbox(`,
         (SELECT coalesce(json_agg(x.id), '[]') FROM x WHERE x.id NOT IN (SELECT id FROM current)) AS moved`)}`;

const UPDATE_SQL = `
  WITH ${ITEMS}, s AS (
    UPDATE saga SET
      ${setClauses(SAGA_FIELDS, 'p')},
      results = CASE WHEN (p->>'resetResults')::boolean THEN p->'results' ELSE results || (p->'results') END,
      -- A dispatched attempt (published through the outbox, or carried on by the worker that wrote this).
      dispatched_at = CASE WHEN (p->>'dispatching')::boolean THEN (p->>'now')::timestamptz ELSE dispatched_at END,
      not_before = CASE WHEN (p->>'dispatching')::boolean THEN (p->>'notBefore')::timestamptz ELSE not_before END,
      carrier = CASE WHEN (p->>'dispatching')::boolean THEN p->>'carrier' ELSE carrier END,
      -- A new attempt has its own deadline (a queue step's: due time + timeoutMs; an HTTP attempt's: none);
      -- with none outstanding, the old attempt's deadline no longer applies.
      attempt_deadline = CASE WHEN (p->>'dispatching')::boolean THEN (p->>'attemptDeadline')::timestamptz
                              WHEN (p->>'awaiting')::boolean IS FALSE THEN NULL ELSE attempt_deadline END,
      next_seq = next_seq + jsonb_array_length(p->'events'),
      circuit_wait = NULL,
      version = version + 1,
      updated_at = (p->>'now')::timestamptz
    FROM x
    -- The id array makes the plan an index scan of saga whatever the size of x is taken to be: the
    -- prepared statement's generic plan assumes 100 items and otherwise chose a hash join over a
    -- sequential scan of saga, which grew with the table.
    WHERE saga.id = ANY(ARRAY(SELECT id FROM x)) AND saga.id = x.id AND saga.version = (p->>'version')::int
    RETURNING saga.id, saga.status
  ), st AS (
    -- Each field as patch-fields.ts says (a 'set' field present in the patch is set, JSON null included).
    UPDATE saga_step t SET
      ${setClauses(STEP_FIELDS, 'sp', 't.')}
    FROM s JOIN x ON x.id = s.id, jsonb_array_elements(x.p->'steps') AS sp
    WHERE t.saga_id = s.id AND t.idx = (sp->>'index')::int
  ), ${writeEventsAndOutbox(NOTIFY_SETTLED)}`;

/**
 * Arms the deadlines of outstanding queue-step attempts, each only while it is
 * still the saga's outstanding attempt: one not armed yet gets `deadline`; with
 * `later`, an armed one moves to `deadline` if that is later (a late forward).
 */
const ARM_DEADLINES_SQL = `
  WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x("sagaId" uuid, run int, step int, phase text, attempt int, deadline timestamptz, later boolean))
  UPDATE saga s SET attempt_deadline = CASE WHEN x.later THEN greatest(s.attempt_deadline, x.deadline) ELSE coalesce(s.attempt_deadline, x.deadline) END
    FROM x
   WHERE s.id = ANY(ARRAY(SELECT "sagaId" FROM x)) AND s.id = x."sagaId"
     AND s.run = x.run AND s.cursor = x.step AND s.phase = x.phase AND s.attempt = x.attempt AND s.awaiting
  RETURNING s.id, s.attempt_deadline AS deadline`;

/** A row of the saga list: the saga without its input, results and steps, plus the step it is at. */
export interface SagaSummaryRecord {
  id: string;
  definitionName: string;
  definitionVersion: number;
  run: number;
  status: SagaStatus;
  correlationId: string | null;
  error: SagaError | null;
  currentStep: string | null;
  phase: Phase;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** created_at in microseconds since the epoch, exactly (the keyset cursor; a JS Date keeps only ms). */
  createdUs: string;
}

export interface SagaListFilter {
  statuses?: SagaStatus[];
  definition?: string;
  correlationId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** Only sagas whose `error.code` is one of these. */
  errorCodes?: string[];
  /** No saga whose `error.code` is one of these. */
  excludeErrorCodes?: string[];
}

/** Position after the last row of a page: (created_at in µs, id). */
export interface SagaListPosition {
  createdUs: string;
  id: string;
}

/** Every status, valid as a SQL literal (the list names several statuses literally so the planner can match partial indexes). */
const STATUS_LITERAL = /^[A-Z_]+$/;

/** What a batched write reports per saga: the outbox ids it wrote, or null when its guard did not match. */
type WriteResult = string[] | null;
/** An insert refused because its definition version is no longer the latest, or the name is disabled (see INSERT_SQL). */
export const DEFINITION_MOVED = 'definition-moved';

interface WriteItem {
  id: string;
  [field: string]: unknown;
}

/**
 * How many statements of each kind may run at once (the rest of the pool
 * stays free for reads and the API). Two writes in flight rather than four
 * make each statement carry more sagas: Postgres spent 1.6 ms of CPU per
 * happy saga instead of 2.0-2.25 at 50 sagas in flight, with no loss of
 * throughput (docs/performance.md, change 15).
 */
const WRITES_IN_FLIGHT = 2;
const READS_IN_FLIGHT = 4;
const MAX_BATCH = 100;
/** Sagas with an outstanding attempt that this process wrote last, kept for the attempt's runner (see `findOutstanding`). */
const RECENT_MAX = 5_000;

/**
 * Storage of saga executions. Every write is one statement: the saga update is
 * guarded by its version, and the step, history and outbox writes only happen
 * when it matched, so a transition is applied completely or not at all.
 * Concurrent reads and writes are grouped into batched statements (one round
 * trip and one commit for many sagas), see `Batcher`.
 */
@Injectable()
export class SagaRepository {
  private readonly reads = new Batcher<string, SagaRecord | null>((ids) => this.findMany(ids), {
    maxBatch: MAX_BATCH,
    maxInFlight: READS_IN_FLIGHT,
  });
  private readonly inserts = new Batcher<WriteItem, WriteResult | typeof DEFINITION_MOVED>((items) => this.write('saga_insert', INSERT_SQL, items), {
    maxBatch: MAX_BATCH,
    maxInFlight: WRITES_IN_FLIGHT,
  });
  // The update statement reports no `moved`.
  private readonly updates = new Batcher<WriteItem, WriteResult>((items) => this.write('saga_update', UPDATE_SQL, items) as Promise<WriteResult[]>, {
    maxBatch: MAX_BATCH,
    maxInFlight: WRITES_IN_FLIGHT,
    key: (item) => item.id,
  });

  private readonly deadlines = new Batcher<StepJobData & { deadline: string; later: boolean }, Date | null>((items) => this.armAttemptDeadlines(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: WRITES_IN_FLIGHT,
    key: (item) => item.sagaId,
  });
  /** Insertion order is recency: the first key is the least recently written. */
  private readonly recent = new RecentMap<string, SagaRecord>(RECENT_MAX);

  /** Only processes that run step attempts keep the sagas they write (an API-only process would never read them). */
  private readonly keepsRecent: boolean;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.keepsRecent = config.runsWorkers;
  }

  find(id: string): Promise<SagaRecord | null> {
    return this.reads.submit(id);
  }

  /**
   * The saga for running or applying its outstanding attempt: the copy this
   * process last wrote when `matches` accepts it (the attempt was dispatched
   * by that write, so nothing is read), otherwise the stored saga. A copy
   * that another instance has since moved on is caught where it matters: the
   * transition's version guard re-reads and re-decides, and the attempt it
   * ran was dispatched before that change (same idempotency key).
   */
  async findOutstanding(id: string, matches: (saga: SagaRecord) => boolean): Promise<SagaRecord | null> {
    const cached = this.recent.get(id);
    if (cached && matches(cached)) return cached;
    return this.find(id);
  }

  private remember(saga: SagaRecord): void {
    this.recent.delete(saga.id);
    if (!saga.awaiting || !this.keepsRecent) return;
    this.recent.set(saga.id, saga);
  }

  private async findMany(ids: string[]): Promise<Array<SagaRecord | null>> {
    const rows = await preparedQuery<SagaRecord>(this.dataSource, 'saga_find_many', SELECT_SAGAS_BY_ID, [ids]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async findByIdempotencyKey(key: string): Promise<SagaRecord | null> {
    const rows = (await this.dataSource.query(`${SELECT_SAGA} WHERE s.idempotency_key = $1`, [key])) as SagaRecord[];
    return rows[0] ?? null;
  }

  /**
   * Runs a batched write (deleting the outbox rows already published); per
   * item, the outbox ids written, DEFINITION_MOVED (inserts only), or null
   * when its guard did not match and nothing was written.
   */
  private async write(name: string, sql: string, items: WriteItem[]): Promise<Array<WriteResult | typeof DEFINITION_MOVED>> {
    const published = this.outbox.takeDeletes();
    let row: { written: string[]; outbox: Array<{ id: string; saga: string }>; moved?: string[] };
    try {
      [row] = await preparedQuery<typeof row>(this.dataSource, name, sql, [JSON.stringify(items), published]);
    } catch (error) {
      this.outbox.queueDeletes(published);
      throw error;
    }
    const written = new Set(row.written);
    const moved = new Set(row.moved ?? []);
    return items.map((item) =>
      written.has(item.id) ? row.outbox.filter((o) => o.saga === item.id).map((o) => o.id) : moved.has(item.id) ? DEFINITION_MOVED : null,
    );
  }

  /**
   * Inserts a new saga (as built by `newSagaRecord`) with its steps, first
   * events and first work, unless its idempotency key is taken (then returns
   * null and writes nothing). With `latestOf`, only while the saga's
   * definition version is still the latest of that name and the name is
   * enabled; otherwise returns DEFINITION_MOVED and writes nothing.
   */
  async insert(saga: SagaRecord, events: HistoryEventDraft[], jobs: StepJob[], latestOf: string | null = null): Promise<string[] | null | typeof DEFINITION_MOVED> {
    const outboxIds = await this.inserts.submit({
      ...(latestOf === null ? {} : { latestOf }),
      id: saga.id,
      definitionName: saga.definitionName,
      definitionVersion: saga.definitionVersion,
      status: saga.status,
      input: saga.input,
      correlationId: saga.correlationId,
      cursor: saga.cursor,
      phase: saga.phase,
      attempt: saga.attempt,
      awaiting: saga.awaiting,
      now: saga.createdAt.toISOString(),
      deadlineAt: saga.deadlineAt?.toISOString() ?? null,
      // A queue step's first attempt is armed by this insert (see stepJob).
      attemptDeadline: jobs[0]?.data.deadline ?? null,
      nextSeq: saga.nextSeq,
      idempotencyKey: saga.idempotencyKey,
      requestHash: saga.requestHash,
      steps: saga.steps.map((t) => ({ idx: t.index, name: t.name, status: t.status, attempts: t.attempts, started_at: t.startedAt })),
      events: eventRows(events, 1, 1, saga.createdAt),
      jobs,
    });
    if (Array.isArray(outboxIds)) this.remember(saga);
    return outboxIds;
  }

  /**
   * Applies one decision if the saga is still at `record.version`. Returns the
   * ids of the outbox rows written, or null when another writer got there first.
   */
  async update(record: SagaRecord, transition: Transition): Promise<string[] | null> {
    const { saga, steps, results, events, jobs, now, carried } = transition;
    const dispatched = dispatchOf(transition);
    // JSON drops undefined fields, so a field is present in the patch exactly when it changes.
    const outboxIds = await this.updates.submit({
      ...saga,
      id: record.id,
      version: record.version,
      results,
      now: now.toISOString(),
      steps: [...steps.entries()].map(([index, p]) => ({ index, ...p })),
      // A replay that starts a new run records its events under the new run.
      events: eventRows(events, record.nextSeq, saga.run ?? record.run, now),
      // Only published jobs get an outbox row; a carried attempt is run by the worker that writes this.
      jobs,
      dispatching: dispatched !== null,
      notBefore: dispatched?.notBefore ?? null,
      carrier: carried ? carried.by : null,
      attemptDeadline: dispatched?.data.deadline ?? null,
    });
    if (outboxIds === null) this.recent.delete(record.id);
    else this.remember(patchRecord(record, transition));
    return outboxIds;
  }

  /**
   * Sets the deadline of a queue step's outstanding attempt, unless one is set
   * already (a re-forward keeps the first); with `later`, moves a set one to
   * `deadline` when that is later. Returns the deadline in force, or null when
   * `address` is no longer the outstanding attempt. Concurrent calls share
   * one statement.
   */
  armAttemptDeadline(address: StepJobData, deadline: Date, later = false): Promise<Date | null> {
    const { sagaId, run, step, phase, attempt } = address;
    return this.deadlines.submit({ sagaId, run, step, phase, attempt, deadline: deadline.toISOString(), later });
  }

  private async armAttemptDeadlines(items: Array<StepJobData & { deadline: string; later: boolean }>): Promise<Array<Date | null>> {
    const rows = await preparedQuery<{ id: string; deadline: Date }>(this.dataSource, 'saga_arm_deadlines', ARM_DEADLINES_SQL, [JSON.stringify(items)]);
    const byId = new Map(rows.map((r) => [r.id, r.deadline]));
    return items.map((item) => byId.get(item.sagaId) ?? null);
  }

  /** Marks the outstanding attempt `address` as waiting on its host's open circuit (no-op when it is no longer outstanding). */
  async markCircuitWait(address: StepJobData, wait: { host: string; until: string }): Promise<void> {
    await this.dataSource.query(
      `UPDATE saga SET circuit_wait = $6 WHERE id = $1 AND run = $2 AND cursor = $3 AND phase = $4 AND attempt = $5 AND awaiting`,
      [address.sagaId, address.run, address.step, address.phase, address.attempt, JSON.stringify(wait)],
    );
  }

  /** Outstanding attempts whose deadline passed more than `graceMs` ago (their timer job did not end them). */
  async overdueAttempts(graceMs: number, limit: number): Promise<StepJobData[]> {
    return (await this.dataSource.query(
      `SELECT id AS "sagaId", run, cursor AS step, phase, attempt FROM saga
        WHERE attempt_deadline < now() - make_interval(secs => $1::float8 / 1000)
          AND awaiting AND status IN ('RUNNING', 'COMPENSATING')
        ORDER BY attempt_deadline LIMIT $2`,
      [graceMs, limit],
    )) as StepJobData[];
  }

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
              s.correlation_id AS "correlationId", s.error, t.name AS "currentStep", s.phase,
              s.created_at AS "createdAt", s.updated_at AS "updatedAt", s.finished_at AS "finishedAt",
              (extract(epoch FROM s.created_at) * 1000000)::bigint::text AS "createdUs"
         FROM saga s LEFT JOIN saga_step t ON t.saga_id = s.id AND t.idx = s.cursor
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
