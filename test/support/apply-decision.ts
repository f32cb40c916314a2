import type { Decision, SagaSnapshot } from '../../src/engine/saga-state.js';
import { applyFields, SAGA_FIELDS, STEP_FIELDS } from '../../src/executions/patch-fields.js';

/**
 * The snapshot after an applied decision (what a re-read from storage would
 * return), by the same rules the guarded update and patchRecord follow.
 * For the engine's table tests, which run decisions one after another.
 */
export function applyDecision(saga: SagaSnapshot, decision: Extract<Decision, { outcome: 'applied' }>): SagaSnapshot {
  return {
    ...applyFields(saga, decision.saga, SAGA_FIELDS),
    steps: saga.steps.map((state, index) => {
      const patch = decision.steps.get(index);
      return patch ? applyFields(state, patch, STEP_FIELDS) : state;
    }),
  };
}
