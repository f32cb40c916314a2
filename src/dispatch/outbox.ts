import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { preparedQuery } from '../database/prepared.js';
import { JobPublisher } from './job-publisher.js';
import type { StepJob } from './step-job.js';

/** Rows younger than this are left to the fast path that wrote them. */
const RELAY_MIN_AGE_MS = 2_000;
const RELAY_INTERVAL_MS = 1_000;
const RELAY_BATCH = 500;
/** Published rows ride along with the next saga write (see `takeDeletes`); without one this soon, they are deleted on their own. */
const DELETE_FALLBACK_MS = 100;

/**
 * The transactional outbox. Work is written with the state change that
 * creates it; `publishCommitted` publishes it at once after commit (the fast
 * path). The published rows are deleted by the next saga write statement,
 * which takes them with `takeDeletes` (so under load, and along a saga's
 * own steps, cleaning costs no transaction of its own), or after
 * DELETE_FALLBACK_MS by a statement of their own. The relay publishes whatever the fast
 * path did not (a crash between commit and publish, Redis down): it claims old
 * rows with FOR UPDATE SKIP LOCKED, so several instances share the work.
 * Publishing twice is harmless: job ids are deterministic.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private pendingDeletes: string[] = [];
  private deleteTimer: NodeJS.Timeout | null = null;
  private relayTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: JobPublisher,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runsWorkers) this.scheduleRelay();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.relayTimer) clearTimeout(this.relayTimer);
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    await this.flushDeletes();
  }

  /** Publishes jobs whose outbox rows just committed. Failures are left to the relay. */
  async publishCommitted(outboxIds: string[], jobs: StepJob[]): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.publisher.publish(jobs);
    } catch (error) {
      this.logger.warn(`publish failed, the relay will retry: ${(error as Error).message}`);
      return;
    }
    this.queueDeletes(outboxIds);
  }

  /** Published rows for a write statement to delete; queue them again with `queueDeletes` if it fails. */
  takeDeletes(): string[] {
    const ids = this.pendingDeletes;
    this.pendingDeletes = [];
    return ids;
  }

  /** Queues published rows for deletion: by the next write statement, or by the fallback. */
  queueDeletes(ids: string[]): void {
    if (ids.length === 0) return;
    this.pendingDeletes.push(...ids);
    this.deleteTimer ??= setTimeout(() => void this.flushDeletes(), DELETE_FALLBACK_MS);
  }

  private async flushDeletes(): Promise<void> {
    this.deleteTimer = null;
    const ids = this.pendingDeletes;
    this.pendingDeletes = [];
    if (ids.length === 0) return;
    try {
      await preparedQuery(this.dataSource, 'outbox_delete', 'DELETE FROM saga_outbox WHERE id = ANY($1::bigint[])', [ids]);
    } catch (error) {
      // The rows stay; the relay publishes them again, which is harmless.
      this.logger.warn(`outbox cleanup failed: ${(error as Error).message}`);
    }
  }

  /** One relay pass; returns how many rows it published. */
  async relayOnce(minAgeMs = RELAY_MIN_AGE_MS): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      const rows = (await em.query(
        `SELECT id::text, job FROM saga_outbox
          WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [minAgeMs, RELAY_BATCH],
      )) as Array<{ id: string; job: StepJob }>;
      if (rows.length === 0) return 0;
      await this.publisher.publish(rows.map((r) => r.job));
      await em.query('DELETE FROM saga_outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  private scheduleRelay(): void {
    if (this.stopped) return;
    this.relayTimer = setTimeout(async () => {
      try {
        const n = await this.relayOnce();
        if (n > 0) this.logger.log(`relay published ${n} job(s) the fast path had not`);
      } catch (error) {
        this.logger.warn(`outbox relay pass failed: ${(error as Error).message}`);
      }
      this.scheduleRelay();
    }, RELAY_INTERVAL_MS);
  }
}
