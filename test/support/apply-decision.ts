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
    input: decision.saga.input !== undefined ? decision.saga.input : saga.input,
    results: decision.saga.resetResults ? decision.results : { ...saga.results, ...decision.results },
    steps: saga.steps.map((state, index) => {
      const patch = decision.steps.get(index);
      if (!patch) return state;
      // A wait belongs to its attempt: storage clears it when the attempt changes.
      return { ...applyFields(state, patch, STEP_FIELDS), ...(patch.awaiting !== undefined ? { waiting: null } : {}) };
    }),
  };
}
