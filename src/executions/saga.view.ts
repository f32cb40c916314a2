import type { PlannedStep, SagaPlan } from '../definitions/saga-plan.js';
import type { EventRecord, SagaRecord, SagaSummaryRecord, StepRecord } from './saga.records.js';

/** The saga as SPEC §4 shows it; its definition's plan places each step (`kind`, `group`, `branch`: SPEC §8-§9). */
export function toSagaView(saga: SagaRecord, plan: SagaPlan) {
  return {
    id: saga.id,
    definition: saga.definitionName,
    version: saga.definitionVersion,
    run: saga.run,
    status: saga.status,
    input: saga.input,
    correlationId: saga.correlationId,
    results: saga.results,
    error: saga.error,
    steps: saga.steps.map((step) => toStepView(step, plan.steps[step.index])),
    createdAt: saga.createdAt.toISOString(),
    updatedAt: saga.updatedAt.toISOString(),
    finishedAt: saga.finishedAt?.toISOString() ?? null,
  };
}

export type SagaView = ReturnType<typeof toSagaView>;

function toStepView(step: StepRecord, placed: PlannedStep) {
  const circuitWait = step.awaiting ? step.circuitWait : null;
  return {
    name: step.name,
    kind: placed.kind,
    group: placed.group,
    branch: placed.branch,
    status: step.status,
    attempts: step.attempts,
    startedAt: iso(step.startedAt),
    finishedAt: iso(step.finishedAt),
    output: step.output ?? null,
    error: step.error ?? null,
    compensation: step.compensationStatus
      ? {
          status: step.compensationStatus,
          attempts: step.compensationAttempts,
          startedAt: iso(step.compensationStartedAt),
          finishedAt: iso(step.compensationFinishedAt),
          error: step.compensationError ?? null,
        }
      : null,
    /** The step's outstanding attempt waits, without using an attempt, for the open circuit of its participant host. */
    waitingOnCircuit: circuitWait ? { host: circuitWait.host, until: circuitWait.until } : null,
    waitingFor: waitingFor(step, placed),
  };
}

/** SPEC §10: what the step's outstanding attempt waits for, when it waits for the outside world (a signal, or a callback). */
function waitingFor(step: StepRecord, placed: PlannedStep): { type: 'signal'; signal: string } | { type: 'callback' } | null {
  const action = step.awaiting === 'action' ? placed.action : step.awaiting === 'compensation' ? placed.compensation : null;
  if (action?.type === 'signal') return { type: 'signal', signal: action.signal };
  // A callback step, or a queue task acknowledged to finish later.
  if ((action?.type === 'http' && action.completion === 'callback') || step.waiting === 'callback') return { type: 'callback' };
  return null;
}

/** Step timestamps come through json_agg as text in the session's time zone; render them as ISO UTC like the rest. */
function iso(value: string | null): string | null {
  return value ? new Date(value).toISOString() : null;
}

export function toEventView(e: EventRecord) {
  return { seq: e.seq, run: e.run, type: e.type, step: e.step, phase: e.phase, attempt: e.attempt, at: e.at.toISOString(), data: e.data };
}

/** A row of `GET /v1/sagas`: the saga without its input, results and steps, with the step it is at. */
export function toSagaSummaryView(saga: SagaSummaryRecord) {
  return {
    id: saga.id,
    definition: saga.definitionName,
    version: saga.definitionVersion,
    run: saga.run,
    status: saga.status,
    correlationId: saga.correlationId,
    currentStep: saga.currentStep,
    phase: saga.phase,
    error: saga.error,
    createdAt: saga.createdAt.toISOString(),
    updatedAt: saga.updatedAt.toISOString(),
    finishedAt: saga.finishedAt?.toISOString() ?? null,
  };
}

export type SagaSummaryView = ReturnType<typeof toSagaSummaryView>;
