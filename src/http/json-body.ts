import { AppError, ErrorCode } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';
import { jsonTextProblem, stringProblem } from '../common/json-guard.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON body parser: a body is stored exactly as sent or refused with the
 * reason. Invalid UTF-8 is refused (not turned into U+FFFD), and so is JSON
 * that PostgreSQL or a JavaScript number cannot keep (see json-guard).
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new AppError(ErrorCode.MALFORMED_JSON, 'The request body is empty; send a JSON document or no Content-Type.');
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new AppError(ErrorCode.MALFORMED_JSON, 'The request body is not valid UTF-8; send JSON encoded as UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError(ErrorCode.MALFORMED_JSON, `The request body is not valid JSON: ${(error as Error).message}.`);
  }
  const problem = jsonTextProblem(text);
  if (problem) {
    throw AppError.validation([fieldError(problem.segments, problem.message)], 'The request body holds JSON that cannot be stored as sent.');
  }
  return value;
}

/**
 * Query and path parameters reach SQL as text: refuse those PostgreSQL cannot
 * hold (NUL, unpaired surrogates) with a 400 naming them.
 */
export function checkParameters(where: 'query' | 'path', parameters: unknown): void {
  if (!parameters || typeof parameters !== 'object') return;
  const errors = [];
  for (const [name, value] of Object.entries(parameters)) {
    for (const text of Array.isArray(value) ? value : [value]) {
      const problem = typeof text === 'string' ? stringProblem(text) : null;
      if (problem) errors.push(fieldError([name], `(${where} parameter) ${problem}`));
    }
  }
  if (errors.length > 0) throw AppError.validation(errors);
}
