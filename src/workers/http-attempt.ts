import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { LIMITS, type HttpAction } from '../definitions/definition.model.js';
import type { PlannedStep } from '../definitions/saga-plan.js';
import { MappingFailed, renderRequest } from '../engine/mapping.js';
import type { AttemptFailure } from '../engine/saga-state.js';
import { Phase } from '../engine/statuses.js';
import { Waits } from '../executions/waits.js';
import type { StepJobData } from '../dispatch/step-job.js';
import type { SagaRecord } from '../executions/saga.records.js';
import { OutstandingAttempts } from '../executions/outstanding-attempts.js';
import { Metrics } from '../metrics/metrics.js';
import { GuardedHttp } from '../outbound/outbound.module.js';
import { ParticipantHosts } from '../outbound/participant-hosts.js';
import { resolveSecrets, resolveSecretText } from '../outbound/secrets.js';
import { SagaTracing } from '../tracing/saga-tracing.js';
import { AttemptResult, executeHttpStep, StepEnvelope } from './http-step.executor.js';
import { WaitTimers } from './wait-timers.js';

/**
 * How old the runner's knowledge of the saga may be when it calls. A job's
 * lock lasts 10 s: only a process stalled longer can have its attempt taken
 * up by another worker, so knowledge younger than this needs no re-read.
 */
const STALE_MS = 5_000;

/**
 * One HTTP attempt, with everything around the call: the secrets of its
 * headers, its host's admission (limit and circuit), its span, the call,
 * the host's release and the metrics. Classifying the answer is
 * http-step.executor's; deciding what follows is the engine's.
 */
@Injectable()
export class HttpAttempt {
  private readonly logger = new Logger(HttpAttempt.name);

  constructor(
    private readonly attempts: OutstandingAttempts,
    private readonly http: GuardedHttp,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly tracing: SagaTracing,
    private readonly hosts: ParticipantHosts,
    private readonly waits: Waits,
    private readonly timers: WaitTimers,
  ) {}

  /**
   * `defer(until)` puts the job back to wait when the host may not be called
   * now (it does not return). `stillOutstanding` is asked right before the
   * call when the saga was last known more than STALE_MS ago (the process
   * was frozen, or the host kept it waiting): another worker may have run
   * the attempt and moved the saga on meanwhile. Returns null when it has.
   */
  async run(
    saga: SagaRecord,
    step: PlannedStep,
    action: HttpAction,
    envelope: StepEnvelope,
    address: StepJobData,
    guard: { knownAt: number; stillOutstanding: () => Promise<boolean>; defer?: (until: number) => Promise<never> },
  ): Promise<AttemptResult | 'acknowledged' | null> {
    const defer = guard.defer;
    const request = this.request(saga, step, action, address);
    if ('failure' in request) return { ok: false, failure: request.failure };
    const admission = await this.hosts.admit(request.url);
    if (!admission.ok && defer) {
      if (admission.reason === 'circuit-open') {
        await this.attempts.markCircuitWait(address, { host: admission.host, until: new Date(admission.retryAt).toISOString() });
        this.logger.debug({ msg: `step waits for the open circuit of ${admission.host}`, sagaId: saga.id, step: step.name, phase: address.phase, attempt: address.attempt });
      }
      return defer(admission.retryAt);
    }
    if (Date.now() - guard.knownAt > STALE_MS && !(await guard.stillOutstanding())) {
      if (admission.ok) admission.release(null);
      this.logger.log({ msg: 'attempt no longer outstanding after a pause; not called', sagaId: saga.id, step: step.name, phase: address.phase, attempt: address.attempt });
      return null;
    }
    const callback = action.completion === 'callback';
    let timeoutMs = Math.min(step.timeoutMs, LIMITS.stepTimeoutMaxMs);
    if (callback) {
      // SPEC §10: a token bound to this attempt, stored as its hash before it leaves; the call only acknowledges.
      const token = await this.waits.issueCallbackToken(address);
      if (token === null) {
        if (admission.ok) admission.release(null);
        return null;
      }
      envelope = { ...envelope, callbackToken: token };
      request.headers['x-callback-token'] = token;
      const left = address.deadline ? Date.parse(address.deadline) - Date.now() : step.timeoutMs;
      timeoutMs = Math.max(1, Math.min(timeoutMs, LIMITS.acknowledgeTimeoutMs, left));
    }
    const startedAt = Date.now();
    const span = this.tracing.attempt({ id: saga.id, run: saga.run, definition: saga.definitionName, version: saga.definitionVersion }, step.name, address.phase, address.attempt);
    const result: AttemptResult = request.missing.length
      ? { ok: false, failure: { retryable: false, timedOut: false, message: `The secret ${request.missing.join(', ')} is not configured on this worker (SAGA_SECRET_${request.missing[0]}).` } }
      : await executeHttpStep(request, envelope, timeoutMs, this.http, span?.traceparent, callback);
    span?.end(result.ok ? { ok: true } : { ok: false, message: result.failure.message });
    // Unwell: timeouts, connection errors, 5xx, 429. A business refusal (other 4xx) or a policy refusal says nothing about the host.
    if (admission.ok) admission.release(result.ok ? false : result.failure.details?.refusedByPolicy ? null : result.failure.retryable);
    const fields = { sagaId: saga.id, run: saga.run, step: step.name, phase: address.phase, attempt: address.attempt, ms: Date.now() - startedAt };
    const outcome = result.ok ? (callback ? 'acknowledged' : 'ok') : result.failure.details?.refusedByPolicy ? 'refused' : result.failure.timedOut ? 'timeout' : 'failed';
    this.metrics.stepAttemptSeconds.observe({ definition: saga.definitionName, step: step.name, phase: address.phase, outcome }, fields.ms / 1000);
    if (result.ok) this.logger.debug({ msg: callback ? 'step call acknowledged; waiting for its callback' : 'step attempt succeeded', ...fields });
    else this.logger.log({ msg: `step attempt failed: ${result.failure.message}`, ...fields, retryable: result.failure.retryable, timedOut: result.failure.timedOut });
    if (!result.ok || !callback) return result;
    // Acknowledged: the attempt waits for its callback until its deadline (in Postgres since the dispatch; the timer only makes it punctual).
    if (await this.attempts.markWaiting(address, 'callback')) await this.timers.arm(address, step.timeoutMs);
    return 'acknowledged';
  }

  /**
   * The request to send: the action's placeholders rendered (SPEC §11) from
   * the saga as read, its secrets put into the template's own header text
   * (never into a value from the saga's data). The engine rendered the same
   * request when it started the attempt; a value missing now fails it the
   * same way.
   */
  private request(saga: SagaRecord, step: PlannedStep, action: HttpAction, address: StepJobData): (Pick<HttpAction, 'method' | 'url' | 'headers' | 'body'> & { missing: string[] }) | { failure: AttemptFailure } {
    const template = address.phase === Phase.ACTION ? step.requests.action : step.requests.compensation;
    if (!template) {
      const { headers, missing } = resolveSecrets(action.headers, this.config.secrets);
      return { method: action.method, url: action.url, headers, missing };
    }
    const missing: string[] = [];
    try {
      const ctx = { input: saga.input, results: saga.results, saga: { id: saga.id, run: saga.run, correlationId: saga.correlationId } };
      const rendered = renderRequest(action, template, ctx, (text) => resolveSecretText(text, this.config.secrets, missing));
      return { method: action.method, url: rendered.url, headers: rendered.headers, ...(template.hasBody ? { body: rendered.body } : {}), missing };
    } catch (error) {
      if (!(error instanceof MappingFailed)) throw error;
      return { failure: { retryable: false, timedOut: false, message: `Data mapping failed: ${error.message}.`, details: { code: 'MAPPING_FAILED' } } };
    }
  }
}
