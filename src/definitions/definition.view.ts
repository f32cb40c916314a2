import type { DefinitionEntity } from './definition.entity.js';
import { type Action, type DefinitionSpec, isGroup, type StepSpec } from './definition.model.js';

/** The API shape of one definition version (entities are never serialized directly). */
export interface DefinitionView extends DefinitionSpec {
  name: string;
  version: number;
  /** false once the name was disabled with DELETE: new triggers are refused. */
  enabled: boolean;
  createdAt: string;
}

export function toDefinitionView(entity: DefinitionEntity, enabled: boolean): DefinitionView {
  const { description, timeoutMs, onStepFailure, steps } = entity.spec;
  return {
    name: entity.name,
    version: entity.version,
    description,
    timeoutMs,
    onStepFailure,
    steps: steps.map((item) => (isGroup(item) ? { name: item.name, parallel: item.parallel.map((branch) => branch.map(orderStep)) } : orderStep(item))),
    enabled,
    createdAt: entity.createdAt.toISOString(),
  };
}

// jsonb keeps keys in its own order; views list fields in the order of the documentation.
function orderStep(step: StepSpec): StepSpec {
  const { maxAttempts, backoff, initialDelayMs, maxDelayMs } = step.retry;
  return {
    name: step.name,
    kind: step.kind,
    action: orderAction(step.action),
    compensation: step.compensation && orderAction(step.compensation),
    retry: { maxAttempts, backoff, initialDelayMs, maxDelayMs },
    timeoutMs: step.timeoutMs,
  };
}

function orderAction(action: Action): Action {
  if (action.type === 'queue') return { type: 'queue', queue: action.queue, task: action.task };
  if (action.type === 'signal') return { type: 'signal', signal: action.signal };
  return {
    type: 'http',
    method: action.method,
    url: action.url,
    headers: action.headers,
    ...(action.completion ? { completion: action.completion } : {}),
    ...(action.body !== undefined ? { body: action.body } : {}),
  };
}
