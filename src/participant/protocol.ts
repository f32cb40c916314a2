/**
 * The wire contract between the server and queue-step participants (SPEC §3).
 * Shared by the server and the exported participant helper.
 */

/** Participants report every outcome to this queue (same Redis prefix as the task queue). */
export const RESULTS_QUEUE = 'saga-results';

/** What every participant receives for one attempt (the HTTP body of SPEC §3). */
export interface StepEnvelope {
  sagaId: string;
  run: number;
  step: string;
  phase: 'action' | 'compensation';
  attempt: number;
  idempotencyKey: string;
  input: unknown;
  /** Outputs of the earlier steps, by step name. */
  results: Record<string, unknown>;
  /**
   * SPEC §10, callback steps only: the attempt ends when
   * POST /v1/callbacks/{callbackToken} arrives (or at its timeout).
   */
  callbackToken?: string;
}

/** The job a queue participant receives: the envelope plus `task`. */
export interface SagaTask extends StepEnvelope {
  task: string;
}

/** What a participant reports back. */
export interface SagaTaskResult {
  sagaId: string;
  run: number;
  step: string;
  phase: 'action' | 'compensation';
  attempt: number;
  outcome:
    | { ok: true; output: unknown }
    | { ok: false; retryable: boolean; message: string }
    /**
     * Acknowledged: the attempt ends when POST /v1/callbacks/{token} arrives
     * (SPEC §10). Only the token's SHA-256 (hex) travels; the participant keeps the token.
     */
    | { ok: 'later'; callbackTokenHash: string };
}

/** Result job ids derive from the task job id, so a participant reporting twice adds one job. */
export function resultJobId(taskJobId: string): string {
  return `result.${taskJobId}`;
}
