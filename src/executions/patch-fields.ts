import type { SagaPatch, StepPatch } from '../engine/saga-state.js';

/**
 * How a decision's patch applies to a saga and its steps, stated once. The
 * guarded update's SET clauses (`UPDATE_SQL`) and the in-memory copy a worker
 * keeps of the saga it wrote (`patchRecord`) are both built from these
 * tables; `test/integration/patch-record.spec.ts` checks the two against each
 * other on a real database.
 *
 * - `keep`: a value replaces the stored one; an absent or null one keeps it.
 * - `set`: a key present in the patch replaces the stored value, null
 *   included; an absent (or undefined) key keeps it.
 */
export interface PatchField<K extends string> {
  key: K;
  column: string;
  type: 'text' | 'int' | 'boolean' | 'jsonb' | 'timestamptz';
  rule: 'keep' | 'set';
  /** jsonb only: a JSON null is stored as SQL NULL. */
  sqlNull?: boolean;
}

type SagaKey = Exclude<keyof SagaPatch, 'resetResults'>;

export const SAGA_FIELDS: ReadonlyArray<PatchField<SagaKey>> = [
  { key: 'status', column: 'status', type: 'text', rule: 'keep' },
  { key: 'run', column: 'run', type: 'int', rule: 'keep' },
  { key: 'input', column: 'input', type: 'jsonb', rule: 'set' },
  { key: 'deadlineAt', column: 'deadline_at', type: 'timestamptz', rule: 'set' },
  { key: 'stopRequested', column: 'stop_requested', type: 'jsonb', rule: 'set', sqlNull: true },
  { key: 'error', column: 'error', type: 'jsonb', rule: 'set', sqlNull: true },
  { key: 'finishedAt', column: 'finished_at', type: 'timestamptz', rule: 'set' },
];

export const STEP_FIELDS: ReadonlyArray<PatchField<keyof StepPatch>> = [
  { key: 'status', column: 'status', type: 'text', rule: 'keep' },
  { key: 'awaiting', column: 'awaiting', type: 'text', rule: 'set' },
  { key: 'attemptBase', column: 'attempt_base', type: 'int', rule: 'keep' },
  { key: 'attempts', column: 'attempts', type: 'int', rule: 'keep' },
  { key: 'lastAttemptTimedOut', column: 'last_attempt_timed_out', type: 'boolean', rule: 'keep' },
  { key: 'startedAt', column: 'started_at', type: 'timestamptz', rule: 'set' },
  { key: 'finishedAt', column: 'finished_at', type: 'timestamptz', rule: 'set' },
  { key: 'output', column: 'output', type: 'jsonb', rule: 'set' },
  { key: 'error', column: 'error', type: 'jsonb', rule: 'set' },
  { key: 'compensationStatus', column: 'compensation_status', type: 'text', rule: 'set' },
  { key: 'compensationAttempts', column: 'compensation_attempts', type: 'int', rule: 'keep' },
  { key: 'compensationStartedAt', column: 'compensation_started_at', type: 'timestamptz', rule: 'set' },
  { key: 'compensationFinishedAt', column: 'compensation_finished_at', type: 'timestamptz', rule: 'set' },
  { key: 'compensationError', column: 'compensation_error', type: 'jsonb', rule: 'set' },
];

/**
 * The SET clauses of the fields: `patch` names the jsonb patch in the query
 * (`p`), `current` the table's alias for the kept value (`t.` or none).
 */
export function setClauses(fields: ReadonlyArray<PatchField<string>>, patch: string, current = ''): string {
  return fields
    .map(({ key, column, type, rule, sqlNull }) => {
      const value =
        type === 'jsonb' ? (sqlNull ? `nullif(${patch}->'${key}', 'null')` : `${patch}->'${key}'`) : type === 'text' ? `${patch}->>'${key}'` : `(${patch}->>'${key}')::${type}`;
      const kept = `${current}${column}`;
      return rule === 'keep' ? `${column} = coalesce(${value}, ${kept})` : `${column} = CASE WHEN ${patch} ? '${key}' THEN ${value} ELSE ${kept} END`;
    })
    .join(',\n      ');
}

/**
 * `target` with `patch` applied by the same rules, to the fields `target`
 * has. Timestamps become what the target keeps (`timestamp`: a Date for the
 * saga, ISO text for a step, as they are read back).
 */
export function applyFields<T extends object>(
  target: T,
  patch: object,
  fields: ReadonlyArray<PatchField<string>>,
  timestamp: (value: Date | string) => unknown = (value) => value,
): T {
  const out = { ...target } as Record<string, unknown>;
  const given = patch as Record<string, unknown>;
  for (const { key, type, rule } of fields) {
    if (!(key in out)) continue;
    const value = given[key];
    if (value === undefined || !Object.hasOwn(given, key)) continue;
    if (rule === 'keep' && value === null) continue;
    out[key] = value !== null && type === 'timestamptz' ? timestamp(value as Date | string) : value;
  }
  return out as T;
}
