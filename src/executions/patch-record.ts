import type { HistoryEventDraft, SagaPatch, StepPatch } from '../engine/saga-state.js';
import type { StepJob } from '../dispatch/step-job.js';
import { applyFields, SAGA_FIELDS, STEP_FIELDS } from './patch-fields.js';
import type { SagaRecord, StepRecord } from './saga.records.js';

/** A decision as it is stored: the engine's patches and history, the jobs it dispatches, and when. */
export interface Transition {
  saga: SagaPatch;
  steps: Map<number, StepPatch>;
  /** Outputs to merge into the saga's `results`, by step name. */
  results: Record<string, unknown>;
  events: HistoryEventDraft[];
  /** Jobs to publish (through the outbox). */
  jobs: StepJob[];
  /** The attempt the writing worker carries on with itself (eager steps): recorded, not published. */
  carried?: { job: StepJob; by: string } | null;
  now: Date;
}

/** The job a transition dispatches, published or carried (at most one: a saga has one outstanding attempt). */
export function dispatchOf({ jobs, carried }: Pick<Transition, 'jobs' | 'carried'>): StepJob | null {
  return jobs[0] ?? carried?.job ?? null;
}

const asDate = (value: Date | string) => new Date(value);
const asIso = (value: Date | string) => new Date(value).toISOString();

/**
 * The saga as the guarded update stores it (`UPDATE_SQL` in saga.repository):
 * the patched fields by the rules of patch-fields.ts, which the SQL is built
 * from too; then what the SQL computes itself: results merge (or are replaced
 * for a new run), the dispatch time, version and next_seq move on. Lets the
 * process that wrote a transition run the next attempt without reading the
 * saga back.
 */
export function patchRecord(record: SagaRecord, transition: Transition): SagaRecord {
  const { saga, steps, results, events, now, carried } = transition;
  const dispatched = dispatchOf(transition);
  return {
    ...applyFields(record, saga, SAGA_FIELDS, asDate),
    results: saga.resetResults ? { ...results } : { ...record.results, ...results },
    notBefore: dispatched ? (dispatched.notBefore ? new Date(dispatched.notBefore) : null) : record.notBefore,
    carrier: dispatched ? (carried?.by ?? null) : record.carrier,
    circuitWait: null,
    version: record.version + 1,
    nextSeq: record.nextSeq + events.length,
    updatedAt: now,
    steps: record.steps.map((step) => {
      const p = steps.get(step.index);
      return p ? applyFields<StepRecord>(step, p, STEP_FIELDS, asIso) : step;
    }),
  };
}
