import { secretSyntaxProblem } from '../../outbound/secrets.js';
import { LIMITS, RESERVED_HEADERS } from '../definition.model.js';

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why a headers object is invalid, or null when it is fine. */
export function headerMapProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be an object of header names to string values';
  const entries = Object.entries(value);
  if (entries.length > LIMITS.maxHeaders) return `must have at most ${LIMITS.maxHeaders} headers`;
  const seen = new Set<string>();
  for (const [name, v] of entries) {
    if (!HEADER_NAME.test(name)) return `"${name}" is not a valid header name`;
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) return `"${name}" is set by the server and cannot be overridden`;
    if (seen.has(lower)) return `"${name}" appears more than once (header names are case-insensitive)`;
    seen.add(lower);
    if (typeof v !== 'string') return `value of "${name}" must be a string`;
    if (v.length > LIMITS.headerValueMaxLength) return `value of "${name}" must be at most ${LIMITS.headerValueMaxLength} characters`;
    if (/[\r\n\0]/.test(v)) return `value of "${name}" must not contain CR, LF or NUL`;
    const secretProblem = secretSyntaxProblem(name, v);
    if (secretProblem) return secretProblem;
  }
  return null;
}
