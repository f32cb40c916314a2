import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../common/batcher.js';
import { preparedQuery } from '../database/prepared.js';
import type { StepJobData } from '../dispatch/step-job.js';
import type { WaitKind } from '../engine/saga-state.js';
import type { Phase } from '../engine/statuses.js';
import { awaitedAttemptSql, isOutstandingSql } from './saga.sql.js';

/**
 * Arms the deadlines of outstanding queue-step attempts, each only while it is
 * still the saga's outstanding attempt: one not armed yet gets `deadline`; with
 * `later`, an armed one moves to `deadline` if that is later (a late forward).
 */
const ARM_DEADLINES_SQL = `
  WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(i int, "sagaId" uuid, run int, step int, phase text, attempt int, deadline timestamptz, later boolean))
  UPDATE saga_step t SET attempt_deadline = CASE WHEN x.later THEN greatest(t.attempt_deadline, x.deadline) ELSE coalesce(t.attempt_deadline, x.deadline) END
    FROM x, saga s
   WHERE t.saga_id = ANY(ARRAY(SELECT "sagaId" FROM x)) AND t.saga_id = x."sagaId" AND t.idx = x.step
     AND s.id = t.saga_id AND s.run = x.run AND ${isOutstandingSql('t', 'x.phase', 'x.attempt')}
  RETURNING x.i, t.attempt_deadline AS deadline`;

/** An outstanding attempt the reconciler claimed to publish again (see `claimUnplaced`). */
export interface UnplacedAttempt {
  id: string;
  definitionName: string;
  definitionVersion: number;
  run: number;
  step: number;
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
    key: (item) => `${item.sagaId}.${item.step}`,
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
    const rows = await preparedQuery<{ i: number; deadline: Date }>(this.dataSource, 'saga_arm_deadlines', ARM_DEADLINES_SQL, [
      JSON.stringify(items.map((item, i) => ({ ...item, i }))),
    ]);
    const byItem = new Map(rows.map((r) => [r.i, r.deadline]));
    return items.map((_, i) => byItem.get(i) ?? null);
  }

  /** Marks the outstanding attempt `address` as waiting on its host's open circuit (no-op when it is no longer outstanding). */
  async markCircuitWait(address: StepJobData, wait: { host: string; until: string }): Promise<void> {
    await this.mark(address, 'circuit_wait', JSON.stringify(wait));
  }

  /**
   * Marks the outstanding attempt as waiting for the outside world (an
   * acknowledged callback, a signal wait; SPEC §10); false when it is no
   * longer outstanding. Cleared with the attempt, like the circuit wait.
   */
  async markWaiting(address: StepJobData, kind: WaitKind): Promise<boolean> {
    return (await this.mark(address, 'waiting', kind)) > 0;
  }

  /** Sets a column of the step row of `address` while it is the saga's outstanding attempt; returns the rows changed. */
  private async mark(address: StepJobData, column: 'circuit_wait' | 'waiting', value: string): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `UPDATE saga_step t SET ${column} = $6 FROM saga s
        WHERE t.saga_id = $1 AND t.idx = $3 AND s.id = t.saga_id AND s.run = $2 AND ${isOutstandingSql('t', '$4', '$5')}`,
      [address.sagaId, address.run, address.step, address.phase, address.attempt, value],
    )) as [unknown, number];
    return count;
  }

  /** Outstanding attempts whose deadline passed more than `graceMs` ago (their timer job did not end them). */
  async overdue(graceMs: number, limit: number): Promise<StepJobData[]> {
    // Reached from the active sagas (saga_step has no index of its own on these columns, so its updates stay HOT).
    return (await this.dataSource.query(
      `SELECT s.id AS "sagaId", s.run, t.idx AS step, t.awaiting AS phase,
              ${awaitedAttemptSql('t')} AS attempt
         FROM saga s JOIN saga_step t ON t.saga_id = s.id
        WHERE s.status IN ('RUNNING', 'COMPENSATING') AND t.awaiting IS NOT NULL
          AND t.attempt_deadline < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY t.attempt_deadline LIMIT $2`,
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
      `UPDATE saga_step t SET dispatched_at = now()
         FROM (SELECT t.saga_id, t.idx, s.definition_name, s.definition_version, s.run
                 FROM saga s JOIN saga_step t ON t.saga_id = s.id
                WHERE s.status IN ('RUNNING', 'COMPENSATING') AND t.awaiting IS NOT NULL
                  -- An attempt that waits for a callback or a signal has its deadline here: nothing to re-publish.
                  AND t.waiting IS NULL
                  AND t.dispatched_at < now() - make_interval(secs => $1::float8 / 1000)
                  AND (t.not_before IS NULL OR t.not_before < now() - make_interval(secs => $1::float8 / 1000))
                  AND NOT EXISTS (SELECT 1 FROM saga_outbox o WHERE o.saga_id = s.id)
                ORDER BY t.dispatched_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED) due
        WHERE t.saga_id = due.saga_id AND t.idx = due.idx
        RETURNING t.saga_id AS id, due.definition_name AS "definitionName", due.definition_version AS "definitionVersion",
                  due.run, t.idx AS step, t.awaiting AS phase,
                  ${awaitedAttemptSql('t')} AS attempt,
                  t.not_before AS "notBefore", t.carrier`,
      [staleMs, limit],
    )) as [UnplacedAttempt[], number];
    return rows;
  }
}
