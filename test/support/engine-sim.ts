import type { Action, DefinitionSpec, StepKind, StepSpec, TopLevelSpec } from '../../src/definitions/definition.model.js';
import { planOf, type SagaPlan } from '../../src/definitions/saga-plan.js';
import { decide, outstandingAttempts } from '../../src/engine/decide.js';
import { newSagaSnapshot } from '../../src/engine/new-saga.js';
import type { AttemptFailure, Decision, EngineInput, SagaSnapshot } from '../../src/engine/saga-state.js';
import { applyDecision } from './apply-decision.js';

export const NOW = new Date('2026-01-01T00:00:00Z');

export function step(name: string, opts: { compensation?: boolean | Action; maxAttempts?: number; kind?: StepKind; action?: Action } = {}): StepSpec {
  const kind = opts.kind ?? 'compensatable';
  return {
    name,
    kind,
    action: opts.action ?? { type: 'http', method: 'POST', url: `http://p/${name}`, headers: {} },
    compensation:
      typeof opts.compensation === 'object'
        ? opts.compensation
        : opts.compensation === false || kind !== 'compensatable'
          ? null
          : { type: 'http', method: 'POST', url: `http://p/${name}/undo`, headers: {} },
    retry: { maxAttempts: opts.maxAttempts ?? (kind === 'retriable' ? 0 : 3), backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 10_000 },
    timeoutMs: 1000,
  };
}

export function group(name: string, ...branches: StepSpec[][]): TopLevelSpec {
  return { name, parallel: branches };
}

export function def(steps: TopLevelSpec[], onStepFailure: 'compensate' | 'pause' = 'compensate', timeoutMs: number | null = null): DefinitionSpec {
  return { description: null, timeoutMs, onStepFailure, steps };
}

export const fail = (f: Partial<AttemptFailure> = {}): AttemptFailure => ({ retryable: false, timedOut: false, message: 'boom', ...f });

/**
 * Drives a saga through the engine, one input after another, applying each
 * decision as storage would. `ok`/`err` address the outstanding attempt of
 * the named step, or the only outstanding one.
 */
export class Sim {
  readonly plan: SagaPlan;
  saga: SagaSnapshot;
  log: Decision[] = [];

  constructor(definition: DefinitionSpec, saga: { input?: unknown; correlationId?: string | null } = {}) {
    this.plan = planOf(definition);
    this.saga = newSagaSnapshot(this.plan.steps.length, { id: 'saga-1', input: saga.input ?? {}, correlationId: saga.correlationId ?? null });
    this.send({ type: 'start', definition: 'd', version: 1, correlationId: null });
  }

  send(input: EngineInput): Decision {
    const d = decide({ definition: this.plan, saga: this.saga, now: NOW, random: () => 0.5 }, input);
    this.log.push(d);
    if (d.outcome === 'applied') this.saga = applyDecision(this.saga, d);
    return d;
  }

  index(name: string): number {
    const i = this.plan.steps.findIndex((s) => s.name === name);
    if (i < 0) throw new Error(`no step ${name}`);
    return i;
  }

  /** The outstanding attempt of `name`, or the only outstanding one. */
  address(name?: string) {
    const all = outstandingAttempts(this.saga);
    const found = name === undefined ? (all.length === 1 ? all[0] : undefined) : all.find((a) => a.step === this.index(name));
    if (!found) throw new Error(`no single outstanding attempt${name ? ` of ${name}` : ''}: ${JSON.stringify(this.outstanding())}`);
    return found;
  }

  ok(output: unknown = { ok: true }, name?: string): Decision {
    return this.send({ type: 'attempt-succeeded', ...this.address(name), output });
  }

  err(failure: Partial<AttemptFailure> = {}, name?: string): Decision {
    return this.send({ type: 'attempt-failed', ...this.address(name), failure: fail(failure) });
  }

  /** The outstanding attempts as "step:phase#attempt", in step order. */
  outstanding(): string[] {
    return outstandingAttempts(this.saga).map((a) => `${this.plan.steps[a.step].name}:${a.phase}#${a.attempt}`);
  }

  /**
   * The saga as a single cursor would show it: the only outstanding attempt,
   * or, with none, the step it stopped at (the last that failed, or whose
   * compensation did).
   */
  view() {
    const all = outstandingAttempts(this.saga);
    const { status, run, error, stopRequested } = this.saga;
    if (all.length > 0) {
      const a = all[0];
      return { status, run, error, stopRequested, cursor: a.step, phase: a.phase, attempt: a.attempt, awaiting: true, attemptBase: this.saga.steps[a.step].attemptBase };
    }
    const compensationFailed = this.saga.steps.findLastIndex((s) => s.status === 'COMPENSATION_FAILED');
    const stopped = compensationFailed >= 0 ? compensationFailed : this.saga.steps.findLastIndex((s) => s.status === 'FAILED');
    const s = this.saga.steps[stopped];
    const phase = s?.status === 'COMPENSATION_FAILED' ? 'compensation' : 'action';
    return {
      status,
      run,
      error,
      stopRequested,
      cursor: stopped,
      phase,
      attempt: s ? (phase === 'action' ? s.attempts : s.compensationAttempts) : 0,
      awaiting: false,
      attemptBase: s?.attemptBase ?? 0,
    };
  }

  /** Every dispatch so far, as "step:phase#attempt". */
  dispatches(): string[] {
    return this.log.flatMap((d) => (d.outcome === 'applied' ? d.commands.map((c) => `${this.plan.steps[c.step].name}:${c.phase}#${c.attempt}`) : []));
  }

  events(): string[] {
    return this.log.flatMap((d) => (d.outcome === 'applied' ? d.events.map((e) => (e.step ? `${e.type}(${e.step})` : e.type)) : []));
  }
}
