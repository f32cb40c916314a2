import type { FieldError } from '../../common/app-error.js';
import { fieldError, formatFieldPath } from '../../common/field-error.js';
import { jsonValueProblem } from '../../common/json-guard.js';
import { bodyStrings, MappingSyntaxError, parseTemplate, referencedSteps, type Template } from '../../engine/mapping.js';
import { DEFAULT_RETRY, LIMITS, STEP_KINDS, type StepKind } from '../definition.model.js';
import { headerMapProblem } from './header-map.validator.js';

type Segments = Array<string | number>;
type Raw = Record<string, unknown>;

interface RawStep {
  raw: Raw;
  at: Segments;
  /** The group's path, or null at the top level. */
  group: Segments | null;
}

const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Fields of a step that a group does not have: its steps have their own. */
const STEP_ONLY_FIELDS = ['action', 'compensation', 'retry', 'timeoutMs', 'kind'] as const;

/**
 * The rules of a definition that span fields (SPEC §1, §8, §9), on the raw
 * body, each violation named by its field path:
 * - a group has `parallel` and none of a step's fields; each branch is a
 *   non-empty list of steps; groups do not nest;
 * - step and group names are unique across the whole definition;
 * - at most 100 steps in all, a group's included;
 * - at most one pivot, at the top level; no compensatable step after a
 *   pivot or a retriable step, no pivot after a retriable step; without a
 *   pivot, the first retriable step (the point of no return) is top-level;
 * - pivot and retriable steps have no compensation; `maxAttempts: 0`
 *   (unlimited) is for retriable steps only (ADR 12);
 * - an explicit maxDelayMs is not below the initial delay, and HTTP
 *   actions' header maps are valid.
 * Shapes and types of single fields are class-validator's (StepDto).
 */
export function definitionRuleErrors(body: unknown): FieldError[] {
  const items = isObject(body) ? body.steps : undefined;
  if (!Array.isArray(items) || items.length > LIMITS.maxSteps) return [];
  const errors: FieldError[] = [];
  const steps: RawStep[] = [];
  const named: Array<{ name: unknown; at: Segments }> = [];

  items.forEach((item: unknown, i: number) => {
    if (!isObject(item)) return;
    const at: Segments = ['steps', i];
    if (!Object.hasOwn(item, 'parallel')) {
      steps.push({ raw: item, at, group: null });
      named.push({ name: item.name, at });
      return;
    }
    named.push({ name: item.name, at });
    for (const field of STEP_ONLY_FIELDS) {
      if (Object.hasOwn(item, field)) errors.push(fieldError([...at, field], `a group has no ${field}; the steps of its branches have their own`));
    }
    if (!Array.isArray(item.parallel)) return;
    item.parallel.forEach((branch: unknown, b: number) => {
      if (!Array.isArray(branch) || branch.length === 0) {
        errors.push(fieldError([...at, 'parallel', b], 'must be a non-empty array of steps (a branch runs its steps in order)'));
        return;
      }
      branch.forEach((step: unknown, k: number) => {
        const stepAt: Segments = [...at, 'parallel', b, k];
        if (!isObject(step)) {
          errors.push(fieldError(stepAt, 'must be a step object'));
          return;
        }
        if (Object.hasOwn(step, 'parallel')) {
          errors.push(fieldError([...stepAt, 'parallel'], 'groups do not nest: a branch holds steps only'));
          return;
        }
        steps.push({ raw: step, at: stepAt, group: at });
        named.push({ name: step.name, at: stepAt });
      });
    });
  });

  if (steps.length > LIMITS.maxSteps) {
    errors.push(fieldError(['steps'], `has ${steps.length} steps in all, counting the steps of groups; at most ${LIMITS.maxSteps}`));
  }
  const firstAt = new Map<string, Segments>();
  for (const { name, at } of named) {
    if (typeof name !== 'string') continue;
    const first = firstAt.get(name);
    if (first === undefined) firstAt.set(name, at);
    else errors.push(fieldError([...at, 'name'], `duplicates the name of ${formatFieldPath(first)}; step and group names must be unique across the definition`));
  }
  for (const step of steps) errors.push(...stepErrors(step));
  errors.push(...kindOrderErrors(steps));
  errors.push(...waitErrors(steps));
  errors.push(...mappingErrors(steps));
  return errors;
}

const isWait = (action: unknown): boolean => isObject(action) && (action.type === 'signal' || (action.type === 'http' && action.completion === 'callback'));

/**
 * SPEC §10: a signal is not a compensation; one step per signal name (a
 * signal is addressed to the saga by name); timeouts over a day are for
 * steps that wait for a callback or a signal (up to 30 days).
 */
function waitErrors(steps: RawStep[]): FieldError[] {
  const errors: FieldError[] = [];
  const signals = new Map<string, Segments>();
  for (const { raw, at } of steps) {
    const action = raw.action;
    const compensation = raw.compensation;
    if (isObject(compensation) && compensation.type === 'signal') {
      errors.push(fieldError([...at, 'compensation', 'type'], 'a signal step waits for the outside world; it is not a valid compensation (use an http or queue action)'));
    }
    if (isObject(action) && action.type === 'signal' && typeof action.signal === 'string') {
      const first = signals.get(action.signal);
      if (first) errors.push(fieldError([...at, 'action', 'signal'], `${formatFieldPath([...first, 'action', 'signal'])} already waits for the signal "${action.signal}"; a signal name is waited for by one step`));
      else signals.set(action.signal, at);
    }
    if (typeof raw.timeoutMs === 'number' && raw.timeoutMs > LIMITS.stepTimeoutMaxMs && !isWait(action) && !isWait(compensation)) {
      errors.push(fieldError([...at, 'timeoutMs'], `must be at most ${LIMITS.stepTimeoutMaxMs} (a day); up to ${LIMITS.waitTimeoutMaxMs} (30 days) only for a step that waits for a callback or a signal`));
    }
  }
  return errors;
}

/** Where a step sits, read from its path: its top-level item and, in a group, its branch and place. */
function position(at: Segments): { stage: number; branch: number | null; place: number } {
  return { stage: at[1] as number, branch: at.length > 2 ? (at[3] as number) : null, place: at.length > 2 ? (at[4] as number) : 0 };
}

/**
 * SPEC §11 at registration: placeholders in an HTTP action's url, header
 * values and body parse, and name only steps that always finish before it
 * (earlier top-level items, earlier steps of its own branch; a
 * compensation also its own step). Secrets stay in headers. A body is JSON
 * that can be stored as sent, at most 64 KiB.
 */
function mappingErrors(steps: RawStep[]): FieldError[] {
  const names = steps.map((s) => s.raw.name).filter((name): name is string => typeof name === 'string');
  const errors: FieldError[] = [];
  for (const step of steps) {
    const me = position(step.at);
    const readable = new Set(
      steps
        .filter((other) => {
          const them = position(other.at);
          return them.stage < me.stage || (them.stage === me.stage && them.branch === me.branch && them.place < me.place);
        })
        .map((other) => other.raw.name),
    );
    for (const phase of ['action', 'compensation'] as const) {
      const action = step.raw[phase];
      if (!isObject(action)) continue;
      const at: Segments = [...step.at, phase];
      if (action.type !== 'http') {
        // Kept out of class-validator's reach (keptAsSent), so refused here like any unknown field.
        if (Object.hasOwn(action, 'body')) errors.push(fieldError([...at, 'body'], 'is not a known field (only an http action has a body)'));
        continue;
      }
      const check = (text: string, where: Segments, place: 'url' | 'header' | 'body') => {
        let template: Template;
        try {
          template = parseTemplate(text, names);
        } catch (error) {
          if (!(error instanceof MappingSyntaxError)) throw error;
          errors.push(fieldError(where, `has a malformed placeholder: ${error.message}`));
          return;
        }
        if (place !== 'header' && /\$\{secret:/.test(text)) errors.push(fieldError(where, 'may not refer to a secret: secrets go in header values only, so they never reach the history'));
        for (const name of referencedSteps(template)) {
          if (readable.has(name) || (phase === 'compensation' && name === step.raw.name)) continue;
          errors.push(fieldError(where, `refers to the output of step "${name}", which does not always finish before this ${phase === 'action' ? 'step' : 'compensation'} runs (a later step, a sibling branch or the step itself${phase === 'action' ? '; only its compensation may read its own output' : ''})`));
        }
      };
      if (typeof action.url === 'string') check(action.url, [...at, 'url'], 'url');
      if (isObject(action.headers)) {
        for (const [name, value] of Object.entries(action.headers)) if (typeof value === 'string') check(value, [...at, 'headers', name], 'header');
      }
      if (Object.hasOwn(action, 'body')) {
        const problem = jsonValueProblem(action.body);
        if (problem) {
          errors.push(fieldError([...at, 'body', ...problem.segments], problem.message));
          continue;
        }
        const size = Buffer.byteLength(JSON.stringify(action.body) ?? '');
        if (size > LIMITS.bodyMaxBytes) errors.push(fieldError([...at, 'body'], `is ${size} bytes as JSON; at most ${LIMITS.bodyMaxBytes}`));
        else if (size > LIMITS.bodyMaxBytes) errors.push(fieldError([...at, 'body'], `is ${size} bytes as JSON; at most ${LIMITS.bodyMaxBytes}`));
        else for (const { at: where, text } of bodyStrings(action.body)) check(text, [...at, 'body', ...where], 'body');
      }
    }
  }
  return errors;
}

function kindOf(raw: Raw): StepKind | null {
  if (raw.kind === undefined) return 'compensatable';
  return (STEP_KINDS as readonly unknown[]).includes(raw.kind) ? (raw.kind as StepKind) : null;
}

/** Rules within one step: headers, the retry policy against its kind, no compensation on a pivot or retriable step. */
function stepErrors({ raw, at }: RawStep): FieldError[] {
  const errors: FieldError[] = [];
  for (const phase of ['action', 'compensation'] as const) {
    const action = raw[phase] as { type?: unknown; headers?: unknown } | undefined;
    if (action?.type !== 'http' || action.headers === undefined) continue;
    const problem = headerMapProblem(action.headers);
    if (problem) errors.push(fieldError([...at, phase, 'headers'], problem));
  }
  const kind = kindOf(raw);
  if (isObject(raw.retry)) {
    const { initialDelayMs, maxDelayMs, maxAttempts } = raw.retry;
    const initial = typeof initialDelayMs === 'number' ? initialDelayMs : DEFAULT_RETRY.initialDelayMs;
    if (typeof maxDelayMs === 'number' && maxDelayMs < initial) {
      errors.push(fieldError([...at, 'retry', 'maxDelayMs'], `must be at least initialDelayMs (${initial})`));
    }
    if (maxAttempts === 0 && kind !== null && kind !== 'retriable') {
      errors.push(
        fieldError(
          [...at, 'retry', 'maxAttempts'],
          kind === 'pivot'
            ? 'cannot be 0 (unlimited) on a pivot: its final attempt decides whether the saga compensates or goes on; 0 is for retriable steps'
            : 'cannot be 0 (unlimited) on a compensatable step: it must be able to fail so the saga can compensate; 0 is for retriable steps',
        ),
      );
    }
  }
  if ((kind === 'pivot' || kind === 'retriable') && raw.compensation !== undefined) {
    errors.push(
      fieldError(
        [...at, 'compensation'],
        kind === 'pivot' ? 'a pivot has no compensation: it is the point of no return' : 'a retriable step has no compensation: it only goes forward',
      ),
    );
  }
  return errors;
}

/** The saga model's order: compensatable steps, then at most one top-level pivot, then retriable steps. */
function kindOrderErrors(steps: RawStep[]): FieldError[] {
  const errors: FieldError[] = [];
  let pivot: Segments | null = null;
  let firstRetriable: RawStep | null = null;
  for (const step of steps) {
    const kind = kindOf(step.raw);
    const at = [...step.at, 'kind'];
    if (kind === 'pivot') {
      if (step.group) errors.push(fieldError(at, `a pivot must be a top-level step, not a step of the group ${formatFieldPath(step.group)}`));
      else if (pivot) errors.push(fieldError(at, `a definition has at most one pivot, and ${formatFieldPath(pivot)} is one`));
      else if (firstRetriable) errors.push(fieldError(at, `a pivot cannot follow a retriable step (${formatFieldPath(firstRetriable.at)}): retriable steps come after the pivot`));
      else pivot = step.at;
    } else if (kind === 'retriable') {
      firstRetriable ??= step;
    } else if (kind === 'compensatable') {
      const before = pivot ?? firstRetriable?.at;
      if (before) {
        errors.push(
          fieldError(
            at,
            `is compensatable${step.raw.kind === undefined ? ' (the default)' : ''} but follows the ${pivot ? 'pivot' : 'retriable step'} ${formatFieldPath(before)}; no compensatable step may follow a pivot or a retriable step`,
          ),
        );
      }
    }
  }
  if (!pivot && firstRetriable?.group) {
    errors.push(
      fieldError(
        [...firstRetriable.at, 'kind'],
        'without a pivot, the first retriable step is the point of no return and must be a top-level step (or declare a pivot before the group)',
      ),
    );
  }
  return errors;
}
