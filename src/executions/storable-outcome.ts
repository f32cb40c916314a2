import { formatFieldPath } from '../common/field-error.js';
import { JsonProblem, jsonValueProblem, storableText } from '../common/json-guard.js';
import type { AttemptFailure, EngineInput } from '../engine/saga-state.js';

/** SPEC §6: inputs and step outputs over 256 KiB are refused. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export type AttemptOutcome = Extract<EngineInput, { type: 'attempt-succeeded' | 'attempt-failed' }>;

/** A failure that ends the step for good: retrying would get the same reply. */
export function permanentFailure(message: string, details?: Record<string, unknown>): AttemptFailure {
  return { retryable: false, timedOut: false, message, ...(details ? { details } : {}) };
}

/**
 * What a participant reported, made into an outcome that can be stored: an
 * output is kept exactly as sent, or the attempt fails for good saying why
 * (over 256 KiB, NUL, unpaired surrogates, too deep). A failure's message and
 * details are diagnostics: what cannot be stored in them is spelled out as
 * `\uXXXX` escapes, and the error says so.
 */
export function storableOutcome(outcome: AttemptOutcome): AttemptOutcome {
  if (outcome.type === 'attempt-succeeded') {
    const problem = jsonValueProblem(outcome.output);
    if (problem) return failed(outcome, permanentFailure(unstorableOutputMessage(problem)));
    const bytes = Buffer.byteLength(JSON.stringify(outcome.output ?? null));
    if (bytes > MAX_PAYLOAD_BYTES) return failed(outcome, permanentFailure(`The output is over 256 KiB (${bytes} bytes).`));
    return outcome;
  }
  const { failure } = outcome;
  const message = storableText(failure.message);
  const detailsOk = !failure.details || jsonValueProblem(failure.details) === null;
  if (!message.escaped && detailsOk) return outcome;
  const details = detailsOk ? failure.details : { ...escapedDetails(failure.details!), escaped: true };
  return { ...outcome, failure: { ...failure, message: message.escaped ? `${message.text} (characters that cannot be stored are shown as \\u escapes)` : message.text, details } };
}

export function unstorableOutputMessage(problem: JsonProblem): string {
  return `The participant's output cannot be stored as sent: ${formatFieldPath(['output', ...problem.segments])} ${problem.message}.`;
}

/** The attempt failed for good because its reply could not be stored: what the worker reports instead. */
export function unstorableOutcome(outcome: AttemptOutcome, reason: string): AttemptOutcome {
  return failed(outcome, permanentFailure(`The participant's reply could not be stored: ${storableText(reason).text}.`));
}

function failed(outcome: AttemptOutcome, failure: AttemptFailure): AttemptOutcome {
  return { type: 'attempt-failed', step: outcome.step, phase: outcome.phase, attempt: outcome.attempt, failure };
}

/** Each detail that cannot be stored becomes its JSON text, which can (JSON.stringify escapes NUL and lone surrogates). */
function escapedDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).map(([key, value]) => [key, jsonValueProblem(value) ? safeStringify(value) : value]));
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '(not representable)';
  }
}
