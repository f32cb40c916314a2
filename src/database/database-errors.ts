/**
 * What node-postgres raises, without a code, for a query on a connection that
 * ended under it (pg_terminate_backend, a restart) or could not be opened in time.
 */
const TERMINATED = /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

/** Node socket errors that mean Postgres cannot be reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * True when an error means "the database is unavailable" (so the request may be
 * retried later) rather than a bug: connection failures, SQLSTATE class 08
 * (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot
 * connect now), and pool/driver errors raised on a terminated connection.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { code?: unknown; driverError?: unknown; cause?: unknown; name?: unknown; message?: unknown };
    if (typeof e.code === 'string') {
      if (NETWORK_CODES.has(e.code) || e.code.startsWith('08') || /^57P0[123]$/.test(e.code)) return true;
    } else if (typeof e.message === 'string' && TERMINATED.test(e.message)) return true;
    current = e.driverError ?? e.cause;
  }
  return false;
}

/** SQLSTATE 23505: a unique or primary-key constraint rejected a row. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  return e?.code === '23505' || e?.driverError?.code === '23505';
}

/**
 * True when Postgres refused a value rather than failed: SQLSTATE class 22
 * (data exception: NUL in text, bad Unicode escape, out-of-range number) and
 * class 54 (program limit exceeded: too deeply nested JSON). Retrying the same
 * write can never succeed.
 */
export function isValueRejected(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { code?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(e.code)) return true;
    current = e.driverError ?? e.cause;
  }
  return false;
}
