/**
 * Stable error codes. Clients branch on these, so a code is never renamed;
 * the HTTP mapping lives in one table in `http/problem.ts`.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_JSON: 'MALFORMED_JSON',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** The request is not valid HTTP: a bad percent-escape, a bad Content-Length. */
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  URI_TOO_LONG: 'URI_TOO_LONG',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** Any other 4xx raised by the framework; the problem carries the real status. */
  REQUEST_REJECTED: 'REQUEST_REJECTED',
  DEFINITION_NOT_FOUND: 'DEFINITION_NOT_FOUND',
  DEFINITION_VERSION_NOT_FOUND: 'DEFINITION_VERSION_NOT_FOUND',
  DEFINITION_DISABLED: 'DEFINITION_DISABLED',
  CONCURRENT_UPDATE: 'CONCURRENT_UPDATE',
  SAGA_NOT_FOUND: 'SAGA_NOT_FOUND',
  SAGA_STATE_CONFLICT: 'SAGA_STATE_CONFLICT',
  /** SPEC §9: the saga is past its pivot and only goes forward (cancel is refused). */
  PAST_PIVOT: 'PAST_PIVOT',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** SPEC §10: no callback token like this was issued. */
  CALLBACK_NOT_FOUND: 'CALLBACK_NOT_FOUND',
  /** SPEC §10: the token's attempt is settled with another answer, or no longer outstanding. */
  CALLBACK_NOT_OUTSTANDING: 'CALLBACK_NOT_OUTSTANDING',
  /** SPEC §10: the signal was received already, with another body. */
  SIGNAL_ALREADY_RECEIVED: 'SIGNAL_ALREADY_RECEIVED',
  /** SPEC §10: no step of the saga waits for that signal, or the saga is done. */
  SIGNAL_NOT_EXPECTED: 'SIGNAL_NOT_EXPECTED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_READY: 'NOT_READY',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One offending input field: `path` as users write it, `pointer` as RFC 6901. */
export interface FieldError {
  path: string;
  pointer: string;
  message: string;
}

/**
 * The one error base class of the domain. Domain code throws this (never a Nest
 * HttpException); `details` become extension members of the problem body.
 */
export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  static validation(errors: FieldError[], message = 'The request has invalid fields.'): AppError {
    return new AppError(ErrorCode.VALIDATION_FAILED, message, { errors });
  }
}
