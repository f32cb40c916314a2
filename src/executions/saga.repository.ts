import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { HistoryEventDraft } from '../engine/saga-state.js';
import type { StepJob } from '../dispatch/step-job.js';
import { Batcher } from '../common/batcher.js';
import { preparedQuery } from '../database/prepared.js';
import { dispatchesOf, patchRecord, type Transition } from './patch-record.js';
import { Outbox } from '../dispatch/outbox.js';
import { RecentSagas } from './recent-sagas.js';
import { eventRows, type SagaRecord } from './saga.records.js';
import { INSERT_SQL, SELECT_SAGA, SELECT_SAGAS_BY_ID, UPDATE_SQL } from './saga.sql.js';

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

  private readonly recent: RecentSagas;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.recent = new RecentSagas(config.runsWorkers);
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

  /** `record`, or the copy this process wrote of the saga since, when that one is newer. */
  newest(record: SagaRecord): SagaRecord {
    const cached = this.recent.get(record.id);
    return cached && cached.version > record.version ? cached : record;
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
      error: saga.error,
      stopRequested: saga.stopRequested,
      finishedAt: saga.finishedAt?.toISOString() ?? null,
      now: saga.createdAt.toISOString(),
      deadlineAt: saga.deadlineAt?.toISOString() ?? null,
      nextSeq: saga.nextSeq,
      idempotencyKey: saga.idempotencyKey,
      requestHash: saga.requestHash,
      steps: saga.steps.map((t) => ({
        idx: t.index,
        name: t.name,
        status: t.status,
        attempts: t.attempts,
        started_at: t.startedAt,
        finished_at: t.finishedAt,
        error: t.error,
        awaiting: t.awaiting,
        // A queue step's first attempt is armed by this insert (see stepJob).
        attempt_deadline: jobs.find((j) => j.data.step === t.index)?.data.deadline ?? null,
      })),
      events: eventRows(events, 1, 1, saga.createdAt),
      jobs,
    });
    if (Array.isArray(outboxIds)) this.recent.remember(saga);
    return outboxIds;
  }

  /**
   * Applies one decision if the saga is still at `record.version`. Returns the
   * ids of the outbox rows written, or null when another writer got there first.
   */
  async update(record: SagaRecord, transition: Transition): Promise<string[] | null> {
    const { saga, steps, results, events, jobs, now } = transition;
    const dispatches = dispatchesOf(transition);
    // JSON drops undefined fields, so a field is present in the patch exactly when it changes.
    const outboxIds = await this.updates.submit({
      ...saga,
      id: record.id,
      version: record.version,
      results,
      now: now.toISOString(),
      steps: [...steps.entries()].map(([index, p]) => ({ index, ...p, ...(dispatches.has(index) ? { dispatch: dispatches.get(index) } : {}) })),
      // A replay that starts a new run records its events under the new run.
      events: eventRows(events, record.nextSeq, saga.run ?? record.run, now),
      // Only published jobs get an outbox row; a carried attempt is run by the worker that writes this.
      jobs,
      ...(transition.answered ? { answered: transition.answered.toString('hex') } : {}),
    });
    if (outboxIds === null) this.recent.forget(record.id);
    else this.recent.remember(patchRecord(record, transition));
    return outboxIds;
  }
}
