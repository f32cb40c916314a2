import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode } from '../common/app-error.js';
import { canonicalJson, sha256Hex } from '../common/canonical-json.js';
import { crashPoint } from '../common/crash-points.js';
import { fieldError } from '../common/field-error.js';
import { RecentMap } from '../common/recent-map.js';
import { DefinitionsRepository, type StoredDefinition } from '../definitions/definitions.repository.js';
import { Outbox } from '../dispatch/outbox.js';
import { stepJob } from '../dispatch/step-job.js';
import { decide } from '../engine/decide.js';
import { newSagaSnapshot } from '../engine/new-saga.js';
import { planOf } from '../definitions/saga-plan.js';
import { isSettled } from '../engine/statuses.js';
import { Metrics } from '../metrics/metrics.js';
import { SagaTracing } from '../tracing/saga-tracing.js';
import type { StartSagaDto } from './dto/start-saga.dto.js';
import { MAX_PAYLOAD_BYTES } from './storable-outcome.js';
import { SagaTransitions } from './saga-transitions.js';
import { DEFINITION_MOVED, SagaRepository } from './saga.repository.js';
import { newSagaRecord, type SagaListFilter, type SagaListPosition, type SagaRecord } from './saga.records.js';
import { SagaReads } from './saga-reads.js';

/** Sagas listed and replayed together by a bulk replay. */
const BULK_BATCH = 100;

export interface BulkReplayReport {
  dryRun: boolean;
  /** Sagas that matched the filter (up to the limit). */
  matched: number;
  replayed: number;
  skipped: number;
  /** Why sagas were skipped, with how many each. */
  skippedReasons: Record<string, number>;
  /** More sagas matched than `limit`; send the request again for the next ones. */
  truncated: boolean;
  /** The sagas replayed (or, in a dry run, that would be). */
  sagaIds: string[];
  /** Error codes left out of the match (deliberate stops the request did not name). */
  excludedErrorCodes: string[];
}

/** How often a start re-reads its definition when the latest version moved under it. */
const START_ROUNDS = 3;
/** Definition names whose latest version is kept as a guess (see `definitionToStart`). */
const LATEST_MAX = 1_000;

/** Starting sagas, cancel, replay and bulk replay; their transitions go through SagaTransitions. */
@Injectable()
export class ExecutionsService {
  /** The latest version of each definition name as last read here; the insert checks it is still current. */
  private readonly latest = new RecentMap<string, StoredDefinition>(LATEST_MAX);

  constructor(
    private readonly sagas: SagaRepository,
    private readonly reads: SagaReads,
    private readonly definitions: DefinitionsRepository,
    private readonly outbox: Outbox,
    private readonly metrics: Metrics,
    private readonly tracing: SagaTracing,
    private readonly transitions: SagaTransitions,
  ) {}

  /**
   * Starts a saga: the saga, its first history events and the work for step 1
   * commit in one statement before this returns; the work is published to
   * BullMQ right after, without holding up the answer. With an idempotency key, the
   * same request returns the saga it started; a different request under the
   * same key is refused.
   */
  async start(dto: StartSagaDto, idempotencyKey: string | null): Promise<{ saga: SagaRecord; created: boolean }> {
    const input = dto.input === undefined ? {} : dto.input;
    this.checkInputSize(input);
    const requestHash = idempotencyKey ? sha256Hex(canonicalJson({ ...dto, input })) : null;
    if (idempotencyKey) {
      const existing = await this.sagas.findByIdempotencyKey(idempotencyKey);
      if (existing) return { saga: this.sameRequestOrThrow(existing, requestHash!), created: false };
    }

    // The latest version as last read here is a guess the insert checks; when it moved, read again.
    for (let round = 1; ; round++) {
      const stored = await this.definitionToStart(dto, round === 1);
      const { saga, events, jobs } = this.newSaga(stored, dto, input, idempotencyKey, requestHash);
      const outboxIds = await this.sagas.insert(saga, events, jobs, dto.version === undefined ? stored.entity.name : null);
      if (outboxIds === DEFINITION_MOVED) {
        this.latest.delete(stored.entity.name);
        if (round < START_ROUNDS) continue;
        throw new AppError(ErrorCode.CONCURRENT_UPDATE, `Definition "${dto.definition}" kept changing while the saga was started; retry.`);
      }
      if (outboxIds === null) {
        // Another request with the same key won the insert.
        const existing = await this.sagas.findByIdempotencyKey(idempotencyKey!);
        if (!existing) throw new Error('idempotency conflict without a saga');
        return { saga: this.sameRequestOrThrow(existing, requestHash!), created: false };
      }
      crashPoint('after-commit-before-publish');
      // The saga is durable now: answer without waiting for Redis. The outbox row stays until the
      // publish succeeds, and the relay publishes it if this one does not (publishCommitted never throws).
      void this.outbox.publishCommitted(outboxIds, jobs);
      this.metrics.sagasStarted.inc({ definition: saga.definitionName });
      // A saga whose first step could not be mapped (MAPPING_FAILED) is stored settled already.
      if (isSettled(saga.status)) this.metrics.sagasSettled.inc({ definition: saga.definitionName, status: saga.status });
      this.tracing.runStarted({ id: saga.id, run: 1, definition: saga.definitionName, version: saga.definitionVersion });
      return { saga, created: true };
    }
  }

  /** A new saga on `stored` as the engine starts it, with its first events and jobs. */
  private newSaga(stored: StoredDefinition, dto: StartSagaDto, input: unknown, idempotencyKey: string | null, requestHash: string | null) {
    const spec = planOf(stored.entity.spec);
    const now = new Date();
    const id = randomUUID();
    const start = { type: 'start', definition: stored.entity.name, version: stored.entity.version, correlationId: dto.correlationId ?? null } as const;
    const snapshot = newSagaSnapshot(spec.steps.length, { id, input, correlationId: dto.correlationId ?? null });
    const decision = decide({ definition: spec, saga: snapshot, now, random: Math.random }, start);
    if (decision.outcome !== 'applied') throw new Error('start was not applied');
    const events = decision.events;
    const jobs = decision.commands.map((c) => stepJob(id, 1, c, spec, now));
    const saga = newSagaRecord(
      {
        id,
        definitionName: stored.entity.name,
        definitionVersion: stored.entity.version,
        input,
        correlationId: dto.correlationId ?? null,
        idempotencyKey,
        requestHash,
        stepNames: spec.steps.map((s) => s.name),
      },
      decision.saga,
      decision.steps,
      events.length,
      now,
    );
    return { saga, events, jobs };
  }

  /**
   * The definition version a start uses: the pinned one, or the latest. With
   * `mayGuess`, the latest as last read by this process (the insert checks it
   * is still the latest); otherwise read now, and kept as the next guess.
   */
  private async definitionToStart(dto: StartSagaDto, mayGuess: boolean): Promise<StoredDefinition> {
    const guess = dto.version === undefined && mayGuess ? this.latest.get(dto.definition) : undefined;
    if (guess) return guess;
    const stored = dto.version === undefined ? await this.definitions.findLatest(dto.definition) : await this.definitions.findVersion(dto.definition, dto.version);
    if (!stored) {
      const known = dto.version !== undefined && (await this.definitions.findLatest(dto.definition));
      throw known
        ? new AppError(ErrorCode.DEFINITION_VERSION_NOT_FOUND, `Definition "${dto.definition}" has no version ${dto.version}.`)
        : new AppError(ErrorCode.DEFINITION_NOT_FOUND, `No definition named "${dto.definition}".`, { definition: dto.definition });
    }
    if (!stored.enabled) {
      throw new AppError(ErrorCode.DEFINITION_DISABLED, `Definition "${dto.definition}" is disabled; register it again to enable it.`);
    }
    if (dto.version === undefined) {
      this.latest.set(stored.entity.name, stored);
    }
    return stored;
  }

  private sameRequestOrThrow(existing: SagaRecord, requestHash: string): SagaRecord {
    if (existing.requestHash !== requestHash) {
      throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used with a different request body.', {
        sagaId: existing.id,
      });
    }
    return existing;
  }

  async get(id: string): Promise<SagaRecord> {
    const saga = isUuid(id) ? await this.sagas.find(id) : null;
    if (!saga) throw new AppError(ErrorCode.SAGA_NOT_FOUND, `No saga with id "${id}".`, { sagaId: id });
    return saga;
  }

  /** POST /cancel: RUNNING and PAUSED sagas compensate; any other status is a 409. */
  async cancel(id: string, request: { by?: string | null; reason?: string | null } = {}): Promise<SagaRecord> {
    // The saga just read is the first state decided on (a stale copy only costs a retry).
    const saga = await this.get(id);
    const { outcome, reason, code } = await this.transitions.apply(id, { type: 'cancel', by: request.by ?? null, reason: request.reason ?? null }, undefined, saga);
    if (outcome === 'rejected') throw new AppError(code === 'PAST_PIVOT' ? ErrorCode.PAST_PIVOT : ErrorCode.SAGA_STATE_CONFLICT, `Cannot cancel: ${reason}.`, { sagaId: id });
    return this.get(id);
  }

  /**
   * POST /replay (SPEC §5). Decided once on the saga as read: if another
   * replay or cancel changed it first, this one is refused rather than
   * re-decided, so of concurrent replays exactly one wins and its work is
   * dispatched once.
   */
  async replay(id: string, request: { input?: unknown; reason?: string | null; by?: string | null }): Promise<SagaRecord> {
    if (request.input !== undefined) this.checkInputSize(request.input);
    const saga = await this.get(id);
    const { outcome, reason } = await this.transitions.apply(id, { type: 'replay', ...request }, undefined, saga, 1);
    if (outcome === 'rejected' || outcome === 'conflict') {
      throw new AppError(ErrorCode.SAGA_STATE_CONFLICT, `Cannot replay: ${reason}.`, { sagaId: id, sagaStatus: saga.status });
    }
    return this.get(id);
  }

  /**
   * POST /v1/sagas/replay: replays every saga that matches, newest first, in
   * batches of BULK_BATCH (each batch's replays share statements through the
   * repository's group commit). A saga that changed since it was listed is
   * skipped with the reason, never replayed twice.
   */
  async bulkReplay(filter: SagaListFilter, options: { dryRun: boolean; reason: string | null; by: string | null; limit: number }): Promise<BulkReplayReport> {
    const report: BulkReplayReport = { dryRun: options.dryRun, matched: 0, replayed: 0, skipped: 0, skippedReasons: {}, truncated: false, sagaIds: [], excludedErrorCodes: filter.excludeErrorCodes ?? [] };
    let position: SagaListPosition | null = null;
    while (report.matched < options.limit) {
      const rows = await this.reads.list(filter, position, Math.min(BULK_BATCH, options.limit - report.matched + 1));
      if (rows.length === 0) break;
      const batch = rows.slice(0, options.limit - report.matched);
      if (batch.length < rows.length) report.truncated = true;
      report.matched += batch.length;
      position = { createdUs: rows[rows.length - 1].createdUs, id: rows[rows.length - 1].id };
      if (options.dryRun) {
        report.sagaIds.push(...batch.map((r) => r.id));
        continue;
      }
      const outcomes = await Promise.all(
        batch.map((row) => this.transitions.apply(row.id, { type: 'replay', reason: options.reason, by: options.by }, undefined, undefined, 1)),
      );
      outcomes.forEach(({ outcome, reason }, i) => {
        if (outcome === 'applied') {
          report.replayed++;
          report.sagaIds.push(batch[i].id);
        } else {
          report.skipped++;
          const why = outcome === 'missing' ? 'the saga no longer exists' : (reason ?? outcome);
          report.skippedReasons[why] = (report.skippedReasons[why] ?? 0) + 1;
        }
      });
      if (batch.length < rows.length) break;
    }
    return report;
  }

  private checkInputSize(input: unknown): void {
    const inputBytes = Buffer.byteLength(JSON.stringify(input));
    if (inputBytes > MAX_PAYLOAD_BYTES) {
      throw AppError.validation([fieldError(['input'], `must be at most 256 KiB of JSON (got ${inputBytes} bytes)`)]);
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
