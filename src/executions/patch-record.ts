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
  /** Attempts the writing worker carries on with itself (eager steps; a group's branches at once): recorded, not published. */
  carried?: { jobs: StepJob[]; by: string } | null;
  /** The SHA-256 of the callback token whose answer this transition applies: marked applied in the same statement (ADR 13). */
  answered?: Buffer;
  now: Date;
}

/** How a transition dispatches a step's attempt: published (its own job) or carried on by the writing worker. */
export interface StepDispatch {
  notBefore: string | null;
  /** The carrying job's id, or null for a published job. */
  carrier: string | null;
  /** A queue step's attempt deadline, armed by the dispatching write (see stepJob). */
  attemptDeadline: string | null;
}

/** The attempts a transition dispatches, by step index (at most one per step). */
export function dispatchesOf({ jobs, carried }: Pick<Transition, 'jobs' | 'carried'>): Map<number, StepDispatch> {
  const out = new Map<number, StepDispatch>();
  for (const job of jobs) out.set(job.data.step, { notBefore: job.notBefore, carrier: null, attemptDeadline: job.data.deadline ?? null });
  for (const job of carried?.jobs ?? []) out.set(job.data.step, { notBefore: job.notBefore, carrier: carried!.by, attemptDeadline: job.data.deadline ?? null });
  return out;
}

const asDate = (value: Date | string) => new Date(value);
const asIso = (value: Date | string) => new Date(value).toISOString();

/**
 * The saga as the guarded update stores it (`UPDATE_SQL` in saga.sql): the
 * patched fields by the rules of patch-fields.ts, which the SQL is built
 * from too; then what the SQL computes itself: results merge (or are
 * replaced for a new run), each dispatched step's backoff and carrier, a
 * step's circuit wait cleared when its attempt changes, version and next_seq
 * move on. Lets the process that wrote a transition run the next attempt
 * without reading the saga back.
 */
export function patchRecord(record: SagaRecord, transition: Transition): SagaRecord {
  const { saga, steps, results, events, now } = transition;
  const dispatches = dispatchesOf(transition);
  return {
    ...applyFields(record, saga, SAGA_FIELDS, asDate),
    results: saga.resetResults ? { ...results } : { ...record.results, ...results },
    version: record.version + 1,
    nextSeq: record.nextSeq + events.length,
    updatedAt: now,
    steps: record.steps.map((step) => {
      const p = steps.get(step.index);
      if (!p) return step;
      const patched = applyFields<StepRecord>(step, p, STEP_FIELDS, asIso);
      const dispatch = dispatches.get(step.index);
      if (dispatch) Object.assign(patched, { notBefore: dispatch.notBefore, carrier: dispatch.carrier });
      if (p.awaiting !== undefined) {
        patched.circuitWait = null;
        patched.waiting = null;
      }
      return patched;
    }),
  };
}
