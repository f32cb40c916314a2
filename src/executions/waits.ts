import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StepJobData } from '../dispatch/step-job.js';
import { isOutstandingSql } from './saga.sql.js';

/** A callback token: 256 random bits, URL-safe (SPEC §10 asks for at least 128). */
export function newCallbackToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the server keeps of a token: its SHA-256, never the token. */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A token's shape: anything else is unknown without a lookup. */
export const CALLBACK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type AnswerState = 'received' | 'applied' | 'rejected';

/** A token's row: the attempt it is bound to, and the answer accepted for it, if any. */
export interface CallbackRow {
  sagaId: string;
  run: number;
  step: number;
  phase: 'action' | 'compensation';
  attempt: number;
  answer: unknown;
  state: AnswerState | null;
}

export interface SignalRow {
  seq: number;
  body: unknown;
  consumedAttempt: number | null;
}

const CALLBACK_COLUMNS = `saga_id AS "sagaId", run, step, phase, attempt, answer, state`;

/**
 * Postgres side of the attempts that wait for the outside world (SPEC §10,
 * ADR 13): callback tokens (as hashes) and their answers, signals kept
 * until their step takes them. Every write bound to an attempt holds only while it is the saga's
 * outstanding one.
 */
@Injectable()
export class Waits {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Issues a token bound to the outstanding attempt `address`; null when it is no longer outstanding. */
  async issueCallbackToken(address: StepJobData): Promise<string | null> {
    const token = newCallbackToken();
    return (await this.bindCallback(address, tokenHash(token))) ? token : null;
  }

  /**
   * Binds a token, known by its hash, to the outstanding attempt `address`
   * (a queue participant makes its own token and sends only the hash);
   * false when the attempt is no longer outstanding. Binding the same hash again is a no-op.
   */
  async bindCallback(address: StepJobData, hash: Buffer): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO saga_callback (token_hash, saga_id, run, step, phase, attempt)
       SELECT $1, s.id, s.run, t.idx, $4, $5 FROM saga s JOIN saga_step t ON t.saga_id = s.id
        WHERE s.id = $2 AND s.run = $6 AND t.idx = $3 AND ${isOutstandingSql('t', '$4', '$5')}
       ON CONFLICT (token_hash) DO NOTHING
       RETURNING 1`,
      [hash, address.sagaId, address.step, address.phase, address.attempt, address.run],
    )) as unknown[];
    return rows.length > 0;
  }

  async findCallback(token: string): Promise<CallbackRow | null> {
    return this.findCallbackByHash(tokenHash(token));
  }

  async findCallbackByHash(hash: Buffer): Promise<CallbackRow | null> {
    const rows = (await this.dataSource.query(`SELECT ${CALLBACK_COLUMNS} FROM saga_callback WHERE token_hash = $1`, [hash])) as CallbackRow[];
    return rows[0] ?? null;
  }

  /** Records `answer` for a token that has none yet; returns the row as it is after (the earlier answer when there was one). */
  async recordAnswer(token: string, answer: unknown): Promise<{ row: CallbackRow; recorded: boolean } | null> {
    const hash = tokenHash(token);
    const recorded = (await this.dataSource.query(
      `UPDATE saga_callback SET answer = $2, state = 'received', answered_at = now() WHERE token_hash = $1 AND answer IS NULL RETURNING ${CALLBACK_COLUMNS}`,
      [hash, JSON.stringify(answer)],
    )) as [CallbackRow[], number];
    if (recorded[0].length > 0) return { row: recorded[0][0], recorded: true };
    const row = await this.findCallback(token);
    return row ? { row, recorded: false } : null;
  }

  /**
   * Answers recorded over `ageMs` ago and not applied (the process that took
   * them died first), with their hashes; the reconciler applies them.
   */
  async unappliedAnswers(ageMs: number, limit: number): Promise<Array<CallbackRow & { hash: Buffer }>> {
    return (await this.dataSource.query(
      `SELECT token_hash AS hash, ${CALLBACK_COLUMNS} FROM saga_callback
        WHERE state = 'received' AND answered_at < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY answered_at LIMIT $2`,
      [ageMs, limit],
    )) as Array<CallbackRow & { hash: Buffer }>;
  }

  async settleAnswerByHash(hash: Buffer, state: Exclude<AnswerState, 'received'>): Promise<void> {
    await this.dataSource.query(`UPDATE saga_callback SET state = $2 WHERE token_hash = $1 AND state = 'received'`, [hash, state]);
  }

  /**
   * Signals of running sagas, kept over `ageMs`, that may still have to be
   * handed to their step: not taken yet (their step may wait now), or taken
   * by a step that still waits in the same attempt (the process that took it
   * died before applying it). The reconciler delivers them; delivering is
   * safe to repeat.
   */
  async undeliveredSignals(ageMs: number, limit: number): Promise<Array<{ sagaId: string; name: string }>> {
    return (await this.dataSource.query(
      `SELECT DISTINCT g.saga_id AS "sagaId", g.name FROM saga_signal g JOIN saga s ON s.id = g.saga_id AND s.run = g.run
        WHERE s.status = 'RUNNING' AND g.received_at < now() - make_interval(secs => $1::float8 / 1000)
          AND (g.consumed_attempt IS NULL
               OR EXISTS (SELECT 1 FROM saga_step t WHERE t.saga_id = g.saga_id AND t.awaiting = 'action' AND t.waiting = 'signal' AND t.attempts = g.consumed_attempt))
        LIMIT $2`,
      [ageMs, limit],
    )) as Array<{ sagaId: string; name: string }>;
  }

  /** The newest signal of that name in the saga's run, or null. */
  async latestSignal(sagaId: string, run: number, name: string): Promise<SignalRow | null> {
    const rows = (await this.dataSource.query(
      `SELECT seq, body, consumed_attempt AS "consumedAttempt" FROM saga_signal WHERE saga_id = $1 AND run = $2 AND name = $3 ORDER BY seq DESC LIMIT 1`,
      [sagaId, run, name],
    )) as SignalRow[];
    return rows[0] ?? null;
  }

  /**
   * Keeps a signal as the next of its name in the run (durable once this
   * returns); false when another one was stored at the same time.
   */
  async storeSignal(sagaId: string, run: number, name: string, seq: number, body: unknown): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO saga_signal (saga_id, run, name, seq, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1`,
      [sagaId, run, name, seq, JSON.stringify(body)],
    )) as unknown[];
    return rows.length > 0;
  }

  /**
   * Takes the newest signal of that name for the waiting attempt: one not
   * taken yet, or one this attempt took before (a redelivered job). Null
   * when there is none to take.
   */
  async takeSignal(sagaId: string, run: number, name: string, attempt: number): Promise<SignalRow | null> {
    const rows = (await this.dataSource.query(
      `UPDATE saga_signal g SET consumed_attempt = $4
        WHERE (saga_id, run, name, seq) = (SELECT saga_id, run, name, seq FROM saga_signal WHERE saga_id = $1 AND run = $2 AND name = $3 ORDER BY seq DESC LIMIT 1)
          AND (g.consumed_attempt IS NULL OR g.consumed_attempt = $4)
        RETURNING seq, body, consumed_attempt AS "consumedAttempt"`,
      [sagaId, run, name, attempt],
    )) as [SignalRow[], number];
    return rows[0][0] ?? null;
  }
}
