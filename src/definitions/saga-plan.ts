import { compileRequest, isMapped, MappingSyntaxError, type RequestTemplate } from '../engine/mapping.js';
import { type Action, type DefinitionSpec, isGroup, type OnStepFailure, type StepSpec } from './definition.model.js';

/** A step of a definition with where it sits: its flat index and, inside a group, the group and branch. */
export interface PlannedStep extends StepSpec {
  /** Position in the flat list of steps (definition order; a group's steps branch by branch). */
  index: number;
  /** The group's name, or null for a top-level step. */
  group: string | null;
  /** The branch within the group (0-based), or null for a top-level step. */
  branch: number | null;
  /** Index of the top-level item (step or group) the step belongs to. */
  stage: number;
  /** Where the step is in the definition, as field-path segments (`['steps', 2, 'parallel', 0, 1]`). */
  path: Array<string | number>;
  /** SPEC §11: the HTTP action's and compensation's placeholders, compiled; null when there is nothing to render. */
  requests: { action: RequestTemplate | null; compensation: RequestTemplate | null };
}

/**
 * A top-level item as the engine runs it: a group's branches, or a single
 * step as a stage of one branch of one step. Branches hold flat indexes, in order.
 */
export interface Stage {
  name: string;
  group: boolean;
  branches: number[][];
}

/**
 * A definition compiled for execution (SPEC §8–§9): every step in one flat
 * list (the index the saga's step rows, jobs and history use), the stages in
 * order, and the point of no return. Pure and cached with the definition.
 */
export interface SagaPlan {
  description: string | null;
  timeoutMs: number | null;
  onStepFailure: OnStepFailure;
  steps: PlannedStep[];
  /** Every step's name, for placeholders that name steps. */
  stepNames: string[];
  stages: Stage[];
  /**
   * Flat index of the point of no return: the pivot, or without one the
   * first retriable step; null when there is neither. Once it has
   * succeeded, the saga only goes forward.
   */
  pivot: number | null;
}

/** Plans by the stored definition object: a version is immutable, and cached readers hold one object per version. */
const plans = new WeakMap<DefinitionSpec, SagaPlan>();

export function planOf(spec: DefinitionSpec): SagaPlan {
  let plan = plans.get(spec);
  if (!plan) {
    plan = compile(spec);
    plans.set(spec, plan);
  }
  return plan;
}

function compile(spec: DefinitionSpec): SagaPlan {
  const steps: PlannedStep[] = [];
  const stages: Stage[] = [];
  const stepNames = spec.steps.flatMap((item) => (isGroup(item) ? item.parallel.flat().map((s) => s.name) : [item.name]));
  const place = (step: StepSpec, where: Omit<PlannedStep, keyof StepSpec | 'index' | 'requests'>): number => {
    const index = steps.length;
    steps.push({ ...step, index, ...where, requests: { action: requestOf(step.action, stepNames), compensation: requestOf(step.compensation, stepNames) } });
    return index;
  };
  spec.steps.forEach((item, stage) => {
    if (isGroup(item)) {
      const branches = item.parallel.map((branch, b) => branch.map((step, k) => place(step, { group: item.name, branch: b, stage, path: ['steps', stage, 'parallel', b, k] })));
      stages.push({ name: item.name, group: true, branches });
    } else {
      stages.push({ name: item.name, group: false, branches: [[place(item, { group: null, branch: null, stage, path: ['steps', stage] })]] });
    }
  });
  const pivot = steps.find((s) => s.kind === 'pivot') ?? steps.find((s) => s.kind === 'retriable');
  return { description: spec.description, timeoutMs: spec.timeoutMs, onStepFailure: spec.onStepFailure, steps, stepNames, stages, pivot: pivot?.index ?? null };
}

/**
 * An HTTP action's compiled placeholders, or null when it has none. A
 * definition stored before mapping existed whose text does not parse as
 * placeholders keeps its text as it is (registration now refuses such text).
 */
function requestOf(action: Action | null, stepNames: readonly string[]): RequestTemplate | null {
  if (action?.type !== 'http') return null;
  try {
    const template = compileRequest(action, stepNames);
    return isMapped(template) ? template : null;
  } catch (error) {
    if (error instanceof MappingSyntaxError) return null;
    throw error;
  }
}

/**
 * SPEC §8: the outputs a step's envelope carries: exactly those of the steps
 * before its stage, and of the earlier steps of its own branch (a sibling
 * branch's outputs are not its business, and may not exist yet).
 */
export function visibleResults(plan: SagaPlan, index: number, results: Record<string, unknown>): Record<string, unknown> {
  const step = plan.steps[index];
  const out: Record<string, unknown> = {};
  for (const other of plan.steps) {
    const visible = other.stage < step.stage || (other.stage === step.stage && other.branch === step.branch && other.index < index);
    if (visible && Object.hasOwn(results, other.name)) out[other.name] = results[other.name];
  }
  return out;
}

/**
 * SPEC §11: the steps whose outputs a step's action (or compensation) may
 * read, those that always finish before it: the steps of earlier stages and
 * the earlier steps of its own branch; a compensation may also read its own
 * step's output.
 */
export function readableSteps(plan: SagaPlan, index: number, phase: 'action' | 'compensation'): Set<string> {
  const step = plan.steps[index];
  const names = plan.steps
    .filter((other) => other.stage < step.stage || (other.stage === step.stage && other.branch === step.branch && other.index < index))
    .map((other) => other.name);
  if (phase === 'compensation') names.push(step.name);
  return new Set(names);
}

/** SPEC §10: the step that waits for the signal `name` (one per definition), or undefined. */
export function signalStep(plan: SagaPlan, name: string): PlannedStep | undefined {
  return plan.steps.find((s) => s.action.type === 'signal' && s.action.signal === name);
}
