import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client), in a registry of its own
 * (several applications may share one process in tests). Names and labels
 * are listed in the README; labels are bounded (definition, step, phase,
 * outcome, route template), never ids.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly sagasStarted = new Counter({
    name: 'saga_started_total',
    help: 'Sagas started (new runs of replays included), by definition',
    labelNames: ['definition'] as const,
    registers: [this.registry],
  });

  readonly sagasSettled = new Counter({
    name: 'saga_settled_total',
    help: 'Sagas that reached COMPLETED, COMPENSATED, PAUSED or FAILED, by definition and status',
    labelNames: ['definition', 'status'] as const,
    registers: [this.registry],
  });

  readonly stepAttemptSeconds = new Histogram({
    name: 'saga_step_attempt_duration_seconds',
    help: 'Duration of HTTP step attempts (actions and compensations), by definition, step, phase and outcome (ok, failed, timeout, refused)',
    labelNames: ['definition', 'step', 'phase', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly stepRetries = new Counter({
    name: 'saga_step_retries_total',
    help: 'Step attempts scheduled again after a retryable failure, by definition, step and phase',
    labelNames: ['definition', 'step', 'phase'] as const,
    registers: [this.registry],
  });

  readonly staleResults = new Counter({
    name: 'saga_stale_results_total',
    help: 'Inputs dropped because they no longer applied: late, duplicate or redelivered step results, deadlines of settled sagas',
    registers: [this.registry],
  });

  readonly reconcilerRedispatched = new Counter({
    name: 'saga_reconciler_redispatched_total',
    help: 'Step jobs the reconciler published again because they were missing from Redis',
    registers: [this.registry],
  });

  readonly reconcilerDeadlines = new Counter({
    name: 'saga_reconciler_deadlines_total',
    help: 'Saga deadlines and queue-step attempt deadlines the reconciler applied',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: 'saga_participant_circuit_state',
    help: 'Circuit of each participant host in this worker: 0 closed, 1 open, 2 half-open',
    labelNames: ['host'] as const,
    registers: [this.registry],
  });

  readonly stepDeferrals = new Counter({
    name: 'saga_step_deferrals_total',
    help: 'Step attempts put back to wait (no attempt used): the host circuit was open or the host at its concurrency limit',
    labelNames: ['host', 'reason'] as const,
    registers: [this.registry],
  });

  readonly httpSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'API request duration, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [this.registry],
  });

  readonly outboxBacklog = new Gauge({ name: 'saga_outbox_backlog', help: 'Outbox rows not yet published to Redis', registers: [this.registry] });
  readonly outboxOldestAge = new Gauge({ name: 'saga_outbox_oldest_age_seconds', help: 'Age of the oldest outbox row (0 when empty)', registers: [this.registry] });
  readonly queueJobs = new Gauge({ name: 'saga_queue_jobs', help: 'BullMQ jobs by queue and state', labelNames: ['queue', 'state'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
