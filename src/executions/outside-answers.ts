import type { AttemptFailure } from '../engine/saga-state.js';
import type { AttemptOutcome } from './storable-outcome.js';

/** The body of a callback or a signal (SPEC §10): how the waiting attempt ended. */
export type OutsideAnswer = { status: 'succeeded'; output?: unknown } | { status: 'failed'; error?: unknown; retryable?: boolean };

/**
 * The attempt outcome an answer stands for. A signal's failure is for good
 * (nothing was called); a callback's is too unless it says `retryable: true`.
 * `error` is kept in the step's error as `reported`.
 */
export function answerOutcome(answer: OutsideAnswer, address: { step: number; phase: 'action' | 'compensation'; attempt: number }, from: { signal: string } | 'callback'): AttemptOutcome {
  if (answer.status === 'succeeded') return { type: 'attempt-succeeded', ...address, output: answer.output ?? null };
  const failure: AttemptFailure = {
    retryable: from === 'callback' && answer.retryable === true,
    timedOut: false,
    message: from === 'callback' ? 'The participant reported failure by callback.' : `The signal "${from.signal}" reported failure.`,
    ...(answer.error !== undefined ? { details: { reported: answer.error } } : {}),
  };
  return { type: 'attempt-failed', ...address, failure };
}
