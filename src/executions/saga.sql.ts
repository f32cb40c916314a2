import { SAGA_FIELDS, setClauses, STEP_FIELDS } from './patch-fields.js';
import { SETTLED_CHANNEL } from './saga-notifications.js';

/** The statements of saga storage: reads of whole sagas, the batched insert and the guarded update (see SagaRepository). */

/** A step timestamp as JavaScript's toISOString() writes it (UTC, milliseconds, Z), as the in-memory copies hold them. */
const isoText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * SQL of the engine's `isOutstanding`: the step row `t` awaits attempt
 * `attempt` of `phase` (its number is the step's attempts, or compensation
 * attempts). Every raw write that holds only for an outstanding attempt uses it.
 */
export const isOutstandingSql = (t: string, phase: string, attempt: string) => `${t}.awaiting = ${phase} AND ${awaitedAttemptSql(t)} = ${attempt}`;

/** SQL of the number of the attempt the step row `t` awaits (its phase's attempt counter). */
export const awaitedAttemptSql = (t: string) => `CASE WHEN ${t}.awaiting = 'action' THEN ${t}.attempts ELSE ${t}.compensation_attempts END`;

export const SELECT_SAGA = `
  SELECT s.id, s.definition_name AS "definitionName", s.definition_version AS "definitionVersion", s.run, s.status,
         s.input, s.correlation_id AS "correlationId", s.results, s.error,
         s.stop_requested AS "stopRequested", s.deadline_at AS "deadlineAt", s.version,
         s.next_seq AS "nextSeq", s.idempotency_key AS "idempotencyKey", s.request_hash AS "requestHash",
         s.created_at AS "createdAt", s.updated_at AS "updatedAt", s.finished_at AS "finishedAt",
         (SELECT coalesce(json_agg(json_build_object(
             'index', t.idx, 'name', t.name, 'status', t.status, 'attempts', t.attempts,
             'lastAttemptTimedOut', t.last_attempt_timed_out, 'startedAt', ${isoText('t.started_at')}, 'finishedAt', ${isoText('t.finished_at')},
             'output', t.output, 'error', t.error, 'compensationStatus', t.compensation_status,
             'compensationAttempts', t.compensation_attempts, 'compensationStartedAt', ${isoText('t.compensation_started_at')},
             'compensationFinishedAt', ${isoText('t.compensation_finished_at')}, 'compensationError', t.compensation_error,
             'awaiting', t.awaiting, 'attemptBase', t.attempt_base, 'notBefore', ${isoText('t.not_before')}, 'carrier', t.carrier,
             'circuitWait', t.circuit_wait, 'waiting', t.waiting)
           ORDER BY t.idx), '[]'::json)
            FROM saga_step t WHERE t.saga_id = s.id) AS steps
    FROM saga s`;

export const SELECT_SAGAS_BY_ID = `${SELECT_SAGA} WHERE s.id = ANY($1::uuid[])`;

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
export const INSERT_SQL = `
  WITH ${ITEMS}, current AS (
    SELECT x.id FROM x LEFT JOIN saga_definition_name n ON n.name = x.p->>'latestOf'
     WHERE NOT (x.p ? 'latestOf') OR (n.latest_version = (x.p->>'definitionVersion')::int AND n.enabled)
  ), s AS (
    INSERT INTO saga (id, definition_name, definition_version, status, input, correlation_id,
                      deadline_at, next_seq, idempotency_key, request_hash, created_at, updated_at,
                      error, stop_requested, finished_at)
    SELECT x.id, p->>'definitionName', (p->>'definitionVersion')::int, p->>'status', p->'input', p->>'correlationId',
           (p->>'deadlineAt')::timestamptz, (p->>'nextSeq')::int, p->>'idempotencyKey', p->>'requestHash',
           (p->>'now')::timestamptz, (p->>'now')::timestamptz,
           nullif(p->'error', 'null'::jsonb), nullif(p->'stopRequested', 'null'::jsonb), (p->>'finishedAt')::timestamptz
      FROM x WHERE x.id IN (SELECT id FROM current)
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
  ), st AS (
    -- A step the start dispatches is awaiting its first attempt, dispatched now (a queue step's armed with its deadline).
    -- A step that failed as the start began it (MAPPING_FAILED) has its finish and error.
    INSERT INTO saga_step (saga_id, idx, name, status, attempts, started_at, finished_at, error, awaiting, dispatched_at, attempt_deadline)
    SELECT s.id, t.idx, t.name, t.status, t.attempts, t.started_at, t.finished_at, t.error, t.awaiting,
           CASE WHEN t.awaiting IS NOT NULL THEN (x.p->>'now')::timestamptz END, t.attempt_deadline
      FROM s JOIN x ON x.id = s.id,
           jsonb_to_recordset(x.p->'steps') AS t(idx int, name text, status text, attempts int, started_at timestamptz, finished_at timestamptz,
                                                 error jsonb, awaiting text, attempt_deadline timestamptz)
  ), ${writeEventsAndOutbox(`,
         (SELECT coalesce(json_agg(x.id), '[]') FROM x WHERE x.id NOT IN (SELECT id FROM current)) AS moved`)}`;

/**
 * The guarded update: the saga row only while it is at the version the
 * decision was made on; its steps, events and outbox rows only with it. A
 * step item with `dispatch` has a new outstanding attempt: dispatched now,
 * with its backoff, carrier and (queue steps) deadline. A step whose
 * attempt changes loses its circuit wait; one with none outstanding, its
 * deadline.
 */
export const UPDATE_SQL = `
  WITH ${ITEMS}, s AS (
    UPDATE saga SET
      ${setClauses(SAGA_FIELDS, 'p')},
      results = CASE WHEN (p->>'resetResults')::boolean THEN p->'results' ELSE results || (p->'results') END,
      next_seq = next_seq + jsonb_array_length(p->'events'),
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
      ${setClauses(STEP_FIELDS, 'sp', 't.')},
      dispatched_at = CASE WHEN sp ? 'dispatch' THEN (x.p->>'now')::timestamptz ELSE t.dispatched_at END,
      not_before = CASE WHEN sp ? 'dispatch' THEN (sp->'dispatch'->>'notBefore')::timestamptz ELSE t.not_before END,
      carrier = CASE WHEN sp ? 'dispatch' THEN sp->'dispatch'->>'carrier' ELSE t.carrier END,
      attempt_deadline = CASE WHEN sp ? 'dispatch' THEN (sp->'dispatch'->>'attemptDeadline')::timestamptz
                              WHEN sp ? 'awaiting' THEN NULL ELSE t.attempt_deadline END,
      circuit_wait = CASE WHEN sp ? 'awaiting' THEN NULL ELSE t.circuit_wait END,
      waiting = CASE WHEN sp ? 'awaiting' THEN NULL ELSE t.waiting END
    FROM s JOIN x ON x.id = s.id, jsonb_array_elements(x.p->'steps') AS sp
    WHERE t.saga_id = s.id AND t.idx = (sp->>'index')::int
  ), cb AS (
    -- The callback whose answer this transition applies is marked applied with it (SPEC §10: one outcome).
    UPDATE saga_callback c SET state = 'applied'
      FROM s JOIN x ON x.id = s.id
     WHERE x.p ? 'answered' AND c.token_hash = decode(x.p->>'answered', 'hex') AND c.state = 'received'
  ), ${writeEventsAndOutbox(NOTIFY_SETTLED)}`;
