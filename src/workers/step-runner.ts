import { Injectable, Logger } from '@nestjs/common';
import { DefinitionCache } from '../definitions/definition-cache.js';
import { stepJobId, type StepJobData } from '../dispatch/step-job.js';
import { Phase } from '../engine/statuses.js';
import { ExecutionsService } from '../executions/executions.service.js';
import { SagaRecord, SagaRepository } from '../executions/saga.repository.js';
import { AttemptResult, executeHttpStep, StepEnvelope } from './http-step.executor.js';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../metrics/metrics.js';
import { SagaTracing } from '../tracing/saga-tracing.js';
import { ParticipantHosts } from '../outbound/participant-hosts.js';
import { GuardedHttp } from '../outbound/outbound.module.js';
import { resolveSecrets } from '../outbound/secrets.js';
import { QueueStepForwarder } from './queue-step.forwarder.js';

/**
 * Runs one step attempt: checks it is still the saga's outstanding attempt
 * (a redelivered or late job is dropped), calls the participant, and hands
 * the outcome to the engine. Business rules stay in the engine.
 */
@Injectable()
export class StepRunner {
  private readonly logger = new Logger(StepRunner.name);

  constructor(
    private readonly sagas: SagaRepository,
    private readonly definitions: DefinitionCache,
    private readonly executions: ExecutionsService,
    private readonly forwarder: QueueStepForwarder,
    private readonly http: GuardedHttp,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly tracing: SagaTracing,
    private readonly hosts: ParticipantHosts,
  ) {}

  /** `defer(until)` puts the job back to wait, keeping its attempt (it does not return). */
  async run(job: StepJobData, defer?: (until: number) => Promise<never>): Promise<void> {
    const outstanding = (s: SagaRecord) => s.run === job.run && s.awaiting && s.cursor === job.step && s.phase === job.phase && s.attempt === job.attempt;
    const saga = await this.sagas.findOutstanding(job.sagaId, outstanding);
    if (!saga || !outstanding(saga)) {
      this.logger.debug({ msg: 'step job is no longer outstanding; dropped', sagaId: job.sagaId, stepIndex: job.step, phase: job.phase, attempt: job.attempt });
      return;
    }
    const definition = await this.definitions.get(saga.definitionName, saga.definitionVersion);
    const step = definition.steps[job.step];
    const address = { step: job.step, phase: job.phase, attempt: job.attempt };

    let result: AttemptResult;
    if (saga.stopRequested && job.phase === Phase.ACTION) {
      // Cancelled (or past its deadline) before this attempt began: do not call the participant.
      result = { ok: false, failure: { retryable: false, timedOut: false, skipped: true, message: 'Not attempted: the saga was stopped first.' } };
    } else {
      const action = job.phase === Phase.ACTION ? step.action : step.compensation!;
      const envelope: StepEnvelope = {
        sagaId: saga.id,
        run: saga.run,
        step: step.name,
        phase: job.phase,
        attempt: job.attempt,
        idempotencyKey: `${saga.id}:${saga.run}:${step.name}:${job.phase}`,
        input: saga.input,
        results: saga.results,
      };
      if (action.type === 'queue') {
        // The participant's worker reports to the results queue; a timer ends the attempt if it does not.
        await this.forwarder.forward(action.queue, action.task, stepJobId(job), envelope, job, step.timeoutMs);
        return;
      }
      // Secrets go into the headers here, for this call only; nothing stores or logs the resolved headers.
      const { headers, missing } = resolveSecrets(action.headers, this.config.secrets);
      const admission = await this.hosts.admit(action.url);
      if (!admission.ok && defer) {
        if (admission.reason === 'circuit-open') {
          await this.sagas.markCircuitWait(job, { host: admission.host, until: new Date(admission.retryAt).toISOString() });
          this.logger.debug({ msg: `step waits for the open circuit of ${admission.host}`, sagaId: saga.id, step: step.name, phase: job.phase, attempt: job.attempt });
        }
        return defer(admission.retryAt);
      }
      const startedAt = Date.now();
      const span = this.tracing.attempt({ id: saga.id, run: saga.run, definition: saga.definitionName, version: saga.definitionVersion }, step.name, job.phase, job.attempt);
      result = missing.length
        ? { ok: false, failure: { retryable: false, timedOut: false, message: `The secret ${missing.join(', ')} is not configured on this worker (SAGA_SECRET_${missing[0]}).` } }
        : await executeHttpStep({ ...action, headers }, envelope, step.timeoutMs, this.http, span?.traceparent);
      span?.end(result.ok ? { ok: true } : { ok: false, message: result.failure.message });
      // Unwell: timeouts, connection errors, 5xx, 429. A business refusal (other 4xx) or a policy refusal says nothing about the host.
      if (admission.ok) admission.release(result.ok ? false : result.failure.details?.refusedByPolicy ? null : result.failure.retryable);
      const fields = { sagaId: saga.id, run: saga.run, step: step.name, phase: job.phase, attempt: job.attempt, ms: Date.now() - startedAt };
      const outcome = result.ok ? 'ok' : result.failure.details?.refusedByPolicy ? 'refused' : result.failure.timedOut ? 'timeout' : 'failed';
      this.metrics.stepAttemptSeconds.observe({ definition: saga.definitionName, step: step.name, phase: job.phase, outcome }, fields.ms / 1000);
      if (result.ok) this.logger.debug({ msg: 'step attempt succeeded', ...fields });
      else this.logger.log({ msg: `step attempt failed: ${result.failure.message}`, ...fields, retryable: result.failure.retryable, timedOut: result.failure.timedOut });
    }
    const input = result.ok
      ? ({ type: 'attempt-succeeded', ...address, output: result.output } as const)
      : ({ type: 'attempt-failed', ...address, failure: result.failure } as const);
    const { outcome, reason } = await this.executions.applyAttemptOutcome(job.sagaId, input, job.run, saga);
    if (outcome !== 'applied') {
      this.logger.log({ msg: `step result not applied (${outcome}): ${reason ?? ''}`, sagaId: job.sagaId, run: job.run, step: step.name, phase: job.phase, attempt: job.attempt });
    }
  }
}
