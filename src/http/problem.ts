import { HttpException } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/app-error.js';
import { isDatabaseUnavailable, isValueRejected } from '../database/database-errors.js';

/** RFC 9457 problem details, with our stable `code` as an extension member. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Every code's HTTP status and title. Exhaustive: a new code will not compile without a row. */
const HTTP: Record<ErrorCode, { status: number; title: string }> = {
  VALIDATION_FAILED: { status: 400, title: 'Invalid request' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  MALFORMED_REQUEST: { status: 400, title: 'Malformed request' },
  URI_TOO_LONG: { status: 414, title: 'URI too long' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  REQUEST_REJECTED: { status: 400, title: 'Request rejected' },
  DEFINITION_NOT_FOUND: { status: 404, title: 'Definition not found' },
  DEFINITION_VERSION_NOT_FOUND: { status: 404, title: 'Definition version not found' },
  DEFINITION_DISABLED: { status: 409, title: 'Definition disabled' },
  CONCURRENT_UPDATE: { status: 409, title: 'Concurrent update' },
  SAGA_NOT_FOUND: { status: 404, title: 'Saga not found' },
  SAGA_STATE_CONFLICT: { status: 409, title: 'Not allowed in this saga status' },
  PAST_PIVOT: { status: 409, title: 'The saga is past its pivot and only goes forward' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused' },
  CALLBACK_NOT_FOUND: { status: 404, title: 'Unknown callback token' },
  CALLBACK_NOT_OUTSTANDING: { status: 409, title: 'The callback\'s attempt is not outstanding' },
  SIGNAL_ALREADY_RECEIVED: { status: 409, title: 'The signal was already received' },
  SIGNAL_NOT_EXPECTED: { status: 409, title: 'No step of the saga waits for this signal' },
  UNAUTHENTICATED: { status: 401, title: 'Unauthenticated' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  NOT_READY: { status: 503, title: 'Not ready' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  INTERNAL: { status: 500, title: 'Internal server error' },
};

export function problemType(code: ErrorCode): string {
  return `urn:saga-orchestrator:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

export function problemOf(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const { status, title } = HTTP[code];
  // Extensions never replace the standard members (a `status` detail once turned a 409 into a 500).
  const { type: _t, title: _ti, status: _s, detail: _d, code: _c, ...rest } = extensions;
  return { type: problemType(code), title, status, detail, code, ...rest };
}

/** Fastify's own error codes (body parsing, limits) that reach us before a route runs. */
const FASTIFY: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCode.MALFORMED_REQUEST,
  FST_ERR_BAD_URL: ErrorCode.MALFORMED_REQUEST,
  FST_ERR_MAX_PARAM_LENGTH: ErrorCode.URI_TOO_LONG,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.MALFORMED_JSON,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCode.MALFORMED_JSON,
};

const FASTIFY_DETAIL: Partial<Record<ErrorCode, string>> = {
  PAYLOAD_TOO_LARGE: 'The request body is larger than the 1 MiB limit.',
  UNSUPPORTED_MEDIA_TYPE: 'Send the body as application/json.',
  MALFORMED_JSON: 'The request body is not valid JSON.',
  URI_TOO_LONG: 'A path segment of the URL is longer than 1,000 characters; no resource has such a long name or id.',
};

/** Details for Fastify codes that share an ErrorCode with others. */
const FASTIFY_CODE_DETAIL: Record<string, string> = {
  FST_ERR_BAD_URL: 'The URL holds a malformed percent-escape (% must be followed by two hex digits of valid UTF-8).',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The body is not as long as its Content-Length says.',
};

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  429: ErrorCode.RATE_LIMITED,
  404: ErrorCode.ROUTE_NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
};

function isFastifyError(error: unknown): error is Error & { code: keyof typeof FASTIFY } {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && code in FASTIFY;
}

/**
 * Turns anything thrown while serving a request into a problem. Returns
 * `unexpected: true` for errors that are bugs (they get logged with a stack).
 */
export function toProblem(error: unknown): { problem: Problem; unexpected: boolean } {
  if (error instanceof AppError) {
    return { problem: problemOf(error.code, error.message, error.details), unexpected: false };
  }
  // Nest wraps Fastify's own errors (body parsing, limits) in an HttpException; the cause names them.
  if (error instanceof HttpException && isFastifyError(error.cause)) return toProblem(error.cause);
  if (error instanceof HttpException && error.getStatus() < 500) {
    const status = error.getStatus();
    const response = error.getResponse();
    const detail = typeof response === 'object' && response && 'message' in response ? String(response.message) : error.message;
    return { problem: { ...problemOf(HTTP_STATUS_CODES[status] ?? ErrorCode.REQUEST_REJECTED, detail), status }, unexpected: false };
  }
  if (isFastifyError(error)) {
    const code = FASTIFY[error.code];
    return { problem: problemOf(code, FASTIFY_CODE_DETAIL[error.code] ?? FASTIFY_DETAIL[code] ?? error.message), unexpected: false };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      problem: problemOf(ErrorCode.SERVICE_UNAVAILABLE, 'The database is unavailable; nothing was stored. Retry later.'),
      unexpected: false,
    };
  }
  if (isValueRejected(error)) {
    // A value the request checks let through but Postgres refused: the client's input, so a 4xx; logged as a gap in the checks.
    return { problem: problemOf(ErrorCode.VALIDATION_FAILED, 'A value in the request cannot be stored; nothing was stored.'), unexpected: true };
  }
  return { problem: problemOf(ErrorCode.INTERNAL, 'An unexpected error occurred; it has been logged.'), unexpected: true };
}
