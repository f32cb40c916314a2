import type { Decision, SagaSnapshot } from './saga-state.js';

/** The snapshot after an applied decision (what a re-read from storage would return). */
export function applyDecision(saga: SagaSnapshot, decision: Extract<Decision, { outcome: 'applied' }>): SagaSnapshot {
  const steps = saga.steps.map((state, index) => {
    const patch = decision.steps.get(index);
    if (!patch) return state;
    return {
      status: patch.status ?? state.status,
      attempts: patch.attempts ?? state.attempts,
      lastAttemptTimedOut: patch.lastAttemptTimedOut ?? state.lastAttemptTimedOut,
      compensationStatus: patch.compensationStatus !== undefined ? patch.compensationStatus : state.compensationStatus,
      compensationAttempts: patch.compensationAttempts ?? state.compensationAttempts,
    };
  });
  const { finishedAt: _finishedAt, input: _input, deadlineAt: _deadlineAt, resetResults: _resetResults, ...patch } = decision.saga;
  return { ...saga, ...patch, steps };
}
