import { randomBytes } from 'node:crypto';
import type { HttpAction } from '../definitions/definition.model.js';
import type { AttemptFailure } from '../engine/saga-state.js';
import { MAX_PAYLOAD_BYTES } from '../executions/executions.service.js';
import type { StepEnvelope } from '../participant/protocol.js';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { OutboundRefused } from '../outbound/guarded-dispatcher.js';
import { runTraceId } from '../tracing/saga-tracing.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';

export type { StepEnvelope };

export type AttemptResult = { ok: true; output: unknown } | { ok: false; failure: AttemptFailure };

/** How much of a failed response's body is kept in the step's error. */
const ERROR_BODY_CHARS = 2_048;
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

/** A call the SSRF guard refused: permanent (retrying reaches the same address); the participant was not called. */
function refusedFailure(message: string): AttemptFailure {
  return { retryable: false, timedOut: false, message, details: { refusedByPolicy: true } };
}

function findRefusal(error: unknown): OutboundRefused | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRefused) return e;
  }
  return null;
}

/** W3C trace context: the trace id derives from the saga and run, so every attempt of a run shares it. */
export function traceparent(sagaId: string, run: number): string {
  return `00-${runTraceId(sagaId, run)}-${randomBytes(8).toString('hex')}-01`;
}

/**
 * Calls an HTTP participant once and classifies the outcome: a 2xx JSON body
 * (or none) is the output; 408, 425, 429, 5xx, timeouts and connection errors
 * are retryable; other statuses, non-JSON and oversized bodies are permanent.
 * Node's fetch keeps connections alive between calls.
 */
export async function executeHttpStep(
  action: HttpAction,
  envelope: StepEnvelope,
  timeoutMs: number,
  guard?: { policy: OutboundPolicy; dispatcher: Dispatcher },
  /** The attempt's span when tracing is on; otherwise a span id is made up under the run's trace id. */
  traceparentHeader?: string,
): Promise<AttemptResult> {
  if (guard) {
    // IP literals never reach a DNS lookup, so the dispatcher's check cannot see them: check the URL too.
    const refused = guard.policy.checkUrl(action.url);
    if (refused) return { ok: false, failure: refusedFailure(`The participant URL ${refused}.`) };
  }
  let response: Response;
  try {
    response = (await undiciFetch(action.url, {
      dispatcher: guard?.dispatcher,
      method: action.method,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        ...action.headers,
        'content-type': 'application/json',
        'idempotency-key': envelope.idempotencyKey,
        'x-saga-id': envelope.sagaId,
        traceparent: traceparentHeader ?? traceparent(envelope.sagaId, envelope.run),
      },
      body: JSON.stringify(envelope),
    })) as unknown as Response;
  } catch (error) {
    const refused = findRefusal(error);
    if (refused) return { ok: false, failure: refusedFailure(`The participant ${refused.message}.`) };
    return { ok: false, failure: transportFailure(error, timeoutMs) };
  }
  let body: string;
  try {
    body = await readCapped(response, MAX_PAYLOAD_BYTES);
  } catch (error) {
    if (error instanceof TooLarge) {
      return { ok: false, failure: { retryable: false, timedOut: false, message: `The response body is over 256 KiB.`, details: { status: response.status } } };
    }
    return { ok: false, failure: transportFailure(error, timeoutMs) };
  }
  if (response.status >= 200 && response.status < 300) {
    if (body.trim() === '') return { ok: true, output: null };
    try {
      return { ok: true, output: JSON.parse(body) };
    } catch {
      return {
        ok: false,
        failure: {
          retryable: false,
          timedOut: false,
          message: `The participant answered ${response.status} with a body that is not JSON.`,
          details: { status: response.status, body: body.slice(0, ERROR_BODY_CHARS) },
        },
      };
    }
  }
  const retryable = RETRYABLE_STATUSES.has(response.status) || response.status >= 500;
  return {
    ok: false,
    failure: {
      retryable,
      timedOut: false,
      message: `The participant answered ${response.status}.`,
      details: { status: response.status, body: parseMaybe(body.slice(0, ERROR_BODY_CHARS)) },
    },
  };
}

class TooLarge extends Error {}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function transportFailure(error: unknown, timeoutMs: number): AttemptFailure {
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { retryable: true, timedOut: true, message: `No answer within ${timeoutMs} ms.` };
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return {
    retryable: true,
    timedOut: false,
    message: `The participant could not be reached: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'unknown error'}.`,
  };
}

function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
