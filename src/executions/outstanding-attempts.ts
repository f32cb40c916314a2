import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../common/batcher.js';
import { preparedQuery } from '../database/prepared.js';
import type { StepJobData } from '../dispatch/step-job.js';
import type { Phase } from '../engine/statuses.js';

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

/** A saga whose outstanding attempt the reconciler claimed to publish again (see `claimUnplaced`). */
export interface UnplacedAttempt {
  id: string;
  definitionName: string;
  definitionVersion: number;
  run: number;
  cursor: number;
  phase: Phase;
  attempt: number;
  notBefore: Date | null;
  carrier: string | null;
}

/**
 * The outstanding attempts' timers and the reconciler's view of them: queue
 * steps' deadlines (armed in batched statements), circuit waits, attempts
 * past their deadline, sagas past theirs, and attempts whose work may be
 * missing from Redis. Each write holds only while the attempt it names is
 * still the saga's outstanding one.
 */
@Injectable()
export class OutstandingAttempts {
  // Concurrent forwards share statements, as saga writes do (SagaRepository).
  private readonly arms = new Batcher<StepJobData & { deadline: string; later: boolean }, Date | null>((items) => this.armDeadlines(items), {
    maxBatch: 100,
    maxInFlight: 2,
    key: (item) => item.sagaId,
  });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Sets the deadline of a queue step's outstanding attempt, unless one is set
   * already (a re-forward keeps the first); with `later`, moves a set one to
   * `deadline` when that is later. Returns the deadline in force, or null when
   * `address` is no longer the outstanding attempt. Concurrent calls share
   * one statement.
   */
  armDeadline(address: StepJobData, deadline: Date, later = false): Promise<Date | null> {
    const { sagaId, run, step, phase, attempt } = address;
    return this.arms.submit({ sagaId, run, step, phase, attempt, deadline: deadline.toISOString(), later });
  }

  private async armDeadlines(items: Array<StepJobData & { deadline: string; later: boolean }>): Promise<Array<Date | null>> {
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
  async overdue(graceMs: number, limit: number): Promise<StepJobData[]> {
    return (await this.dataSource.query(
      `SELECT id AS "sagaId", run, cursor AS step, phase, attempt FROM saga
        WHERE attempt_deadline < now() - make_interval(secs => $1::float8 / 1000)
          AND awaiting AND status IN ('RUNNING', 'COMPENSATING')
        ORDER BY attempt_deadline LIMIT $2`,
      [graceMs, limit],
    )) as StepJobData[];
  }

  /** Sagas past their own deadline (`timeoutMs` of the definition), oldest first. */
  async sagasPastDeadline(limit: number): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT id FROM saga WHERE deadline_at < now() AND status IN ('RUNNING', 'PAUSED') ORDER BY deadline_at LIMIT $1`,
      [limit],
    )) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  /**
   * Claims up to `limit` outstanding attempts dispatched over `staleMs` ago
   * (and due that long) with no outbox row left: their work may be missing
   * from Redis. The claim moves `dispatched_at` to now, so another
   * reconciler skips them for a while (SKIP LOCKED for one running now).
   */
  async claimUnplaced(staleMs: number, limit: number): Promise<UnplacedAttempt[]> {
    const [rows] = (await this.dataSource.query(
      `UPDATE saga s SET dispatched_at = now()
         FROM (SELECT id FROM saga
                WHERE status IN ('RUNNING', 'COMPENSATING') AND awaiting
                  AND dispatched_at < now() - make_interval(secs => $1::float8 / 1000)
                  AND (not_before IS NULL OR not_before < now() - make_interval(secs => $1::float8 / 1000))
                  AND NOT EXISTS (SELECT 1 FROM saga_outbox o WHERE o.saga_id = saga.id)
                ORDER BY dispatched_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
        WHERE s.id = due.id
        RETURNING s.id, s.definition_name AS "definitionName", s.definition_version AS "definitionVersion",
                  s.run, s.cursor, s.phase, s.attempt, s.not_before AS "notBefore", s.carrier`,
      [staleMs, limit],
    )) as [UnplacedAttempt[], number];
    return rows;
  }
}
