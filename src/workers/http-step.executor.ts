import { randomBytes } from 'node:crypto';
import type { HttpAction } from '../definitions/definition.model.js';
import type { AttemptFailure } from '../engine/saga-state.js';
import { jsonTextProblem } from '../common/json-guard.js';
import { MAX_PAYLOAD_BYTES, unstorableOutputMessage } from '../executions/storable-outcome.js';
import type { StepEnvelope } from '../participant/protocol.js';
import { request, type Dispatcher } from 'undici';
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
 * The body is the envelope, or the action's mapped `body` (SPEC §11) when it
 * has one. The dispatcher keeps connections alive between calls.
 */
export async function executeHttpStep(
  action: Pick<HttpAction, 'method' | 'url' | 'headers' | 'body'>,
  envelope: StepEnvelope,
  timeoutMs: number,
  guard?: { policy: OutboundPolicy; dispatcher: Dispatcher },
  /** The attempt's span when tracing is on; otherwise a span id is made up under the run's trace id. */
  traceparentHeader?: string,
  /** A callback step's call (SPEC §10): a 2xx only acknowledges, whatever its body. */
  acknowledgeOnly = false,
): Promise<AttemptResult> {
  if (guard) {
    // IP literals never reach a DNS lookup, so the dispatcher's check cannot see them: check the URL too.
    const refused = guard.policy.checkUrl(action.url);
    if (refused) return { ok: false, failure: refusedFailure(`The participant URL ${refused}.`) };
  }
  let response: Dispatcher.ResponseData;
  try {
    // undici's request() rather than fetch(): the same pool and semantics (no redirects followed) at a fraction of the cost per call.
    response = await request(action.url, {
      dispatcher: guard?.dispatcher,
      method: action.method,
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        ...action.headers,
        'content-type': 'application/json',
        'idempotency-key': envelope.idempotencyKey,
        'x-saga-id': envelope.sagaId,
        traceparent: traceparentHeader ?? traceparent(envelope.sagaId, envelope.run),
      },
      body: JSON.stringify(action.body !== undefined ? action.body : envelope),
    });
  } catch (error) {
    const refused = findRefusal(error);
    if (refused) return { ok: false, failure: refusedFailure(`The participant ${refused.message}.`) };
    return { ok: false, failure: transportFailure(error, timeoutMs) };
  }
  const status = response.statusCode;
  if (acknowledgeOnly && status >= 200 && status < 300) {
    await response.body.dump().catch(() => undefined);
    return { ok: true, output: null };
  }
  let bytes: Buffer;
  try {
    bytes = await readCapped(response.body, MAX_PAYLOAD_BYTES);
  } catch (error) {
    if (error instanceof TooLarge) {
      return { ok: false, failure: { retryable: false, timedOut: false, message: `The response body is over 256 KiB.`, details: { status } } };
    }
    return { ok: false, failure: transportFailure(error, timeoutMs) };
  }
  if (status >= 200 && status < 300) return outputOf(status, bytes);
  const retryable = RETRYABLE_STATUSES.has(status) || status >= 500;
  return {
    ok: false,
    failure: { retryable, timedOut: false, message: `The participant answered ${status}.`, details: { status, body: errorBody(bytes) } },
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A 2xx body is the step's output, kept exactly as sent: no body is null;
 * a body that is not UTF-8 JSON, or JSON that cannot be stored as sent
 * (NUL, unpaired surrogates, numbers a double cannot hold, too deep), fails
 * the step for good with the reason.
 */
function outputOf(status: number, bytes: Buffer): AttemptResult {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, failure: { retryable: false, timedOut: false, message: `The participant answered ${status} with a body that is not valid UTF-8.`, details: { status } } };
  }
  if (text.trim() === '') return { ok: true, output: null };
  let output: unknown;
  try {
    output = JSON.parse(text);
  } catch {
    return {
      ok: false,
      failure: {
        retryable: false,
        timedOut: false,
        message: `The participant answered ${status} with a body that is not JSON.`,
        details: { status, body: text.slice(0, ERROR_BODY_CHARS) },
      },
    };
  }
  const problem = jsonTextProblem(text);
  if (problem) {
    return { ok: false, failure: { retryable: false, timedOut: false, message: unstorableOutputMessage(problem), details: { status } } };
  }
  return { ok: true, output };
}

/** A failed response's body, kept in the step's error: its JSON when it is JSON, else its first 2 KiB of text. */
function errorBody(bytes: Buffer): unknown {
  const text = bytes.subarray(0, ERROR_BODY_CHARS * 4).toString('utf8').slice(0, ERROR_BODY_CHARS);
  return parseMaybe(text);
}

class TooLarge extends Error {}

async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).byteLength;
    if (total > maxBytes) {
      body.destroy();
      throw new TooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

function transportFailure(error: unknown, timeoutMs: number): AttemptFailure {
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { retryable: true, timedOut: true, message: `No answer within ${timeoutMs} ms.` };
  }
  const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
  return {
    retryable: true,
    timedOut: false,
    message: `The participant could not be reached: ${cause?.code ?? (code && !code.startsWith('UND_ERR_') ? code : undefined) ?? cause?.message ?? (error as Error)?.message ?? 'unknown error'}.`,
  };
}

function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
