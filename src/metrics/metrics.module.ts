import { Controller, Get, Global, Header, Injectable, Logger, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../auth/scopes.js';
import { valueWithin } from '../common/with-deadline.js';
import { DispatchModule } from '../dispatch/dispatch.module.js';
import { JobPublisher } from '../dispatch/job-publisher.js';
import { STEPS_QUEUE, TIMERS_QUEUE } from '../dispatch/step-job.js';
import { RESULTS_QUEUE } from '../participant/protocol.js';
import { Metrics } from './metrics.js';

const QUEUES = [STEPS_QUEUE, TIMERS_QUEUE, RESULTS_QUEUE];
const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
/** A scrape never waits on a store for longer than this; a gauge it could not read keeps its last value. */
const GAUGE_DEADLINE_MS = 1_000;

/** Reads the gauges that live in the stores (outbox, queues) at scrape time. */
@Injectable()
export class StoreGauges {
  private readonly logger = new Logger('metrics');

  constructor(
    private readonly metrics: Metrics,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: JobPublisher,
  ) {}

  async refresh(): Promise<void> {
    const outbox = valueWithin(
      this.dataSource.query(`SELECT count(*)::int AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM saga_outbox`) as Promise<
        Array<{ n: number; age: number }>
      >,
      GAUGE_DEADLINE_MS,
    );
    const queues = QUEUES.map((name) => valueWithin(this.publisher.queue(name).getJobCounts(...STATES), GAUGE_DEADLINE_MS));
    const [rows, ...counts] = await Promise.all([outbox, ...queues].map((p) => p.then((value) => ({ ok: true as const, value }), (reason: Error) => ({ ok: false as const, reason }))));
    if (rows.ok) {
      const [row] = rows.value as Array<{ n: number; age: number }>;
      this.metrics.outboxBacklog.set(row.n);
      this.metrics.outboxOldestAge.set(row.age);
    }
    counts.forEach((result, i) => {
      if (!result.ok) return;
      for (const state of STATES) this.metrics.queueJobs.set({ queue: QUEUES[i], state }, (result.value as Record<string, number>)[state] ?? 0);
    });
    if (!rows.ok) this.logger.debug(`outbox gauge not read: ${rows.reason.message}`);
  }
}

@ApiExcludeController()
@Public()
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly gauges: StoreGauges,
  ) {}

  /** Prometheus text format. Open like /health: it holds counts and names, no payloads or ids. */
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    await this.gauges.refresh();
    return this.metrics.registry.metrics();
  }
}

@Global()
@Module({ imports: [DispatchModule], controllers: [MetricsController], providers: [Metrics, StoreGauges], exports: [Metrics] })
export class MetricsModule {}
