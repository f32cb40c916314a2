/**
 * What JSON this server stores, checked before anything is stored: every
 * request body and every participant reply. A document is kept exactly as
 * sent, or refused with the path and the reason; never changed silently.
 *
 * PostgreSQL's jsonb cannot hold U+0000 or an unpaired UTF-16 surrogate, and
 * JavaScript numbers cannot hold every JSON number (1e400 would become null,
 * 12345678901234567890 would lose digits). Deep nesting is bounded because
 * the code that serialises documents recurses.
 */

/** Levels of nesting a stored document may have (an array of arrays is two). */
export const MAX_JSON_DEPTH = 1_000;

/** Where a document cannot be stored as sent, and why. */
export interface JsonProblem {
  /** Path from the document's root: keys and array indexes (for nesting, only the top-level field). */
  segments: Array<string | number>;
  message: string;
}

const NUL_MESSAGE = 'holds U+0000 (NUL), which cannot be stored';
const SURROGATE_MESSAGE = 'holds an unpaired UTF-16 surrogate, which is not valid Unicode and cannot be stored';
const PROTO_MESSAGE = 'has the key "__proto__", which is not accepted (it can alter objects\' prototypes)';
const DEPTH_MESSAGE = `is nested deeper than ${MAX_JSON_DEPTH} levels`;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface Frame {
  array: boolean;
  /** Arrays: the current element's index. */
  index: number;
  /** Objects: where the current member's key sits in the text (quotes included). */
  keyStart: number;
  keyEnd: number;
}

/**
 * Checks a JSON text that `JSON.parse` accepted: every string and key, every
 * number literal (its decimal value must survive the trip through a double
 * unchanged) and the nesting depth. One pass, no recursion.
 */
export function jsonTextProblem(text: string): JsonProblem | null {
  const stack: Frame[] = [];
  /** The next string in the innermost object is a key. */
  let atKey = false;
  const at = (inKey: boolean, message: string): JsonProblem => ({ segments: pathOf(text, stack, inKey), message });
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      // { or [
      if (stack.length >= MAX_JSON_DEPTH) return { segments: pathOf(text, stack, false).slice(0, 1), message: DEPTH_MESSAGE };
      stack.push({ array: c === 0x5b, index: 0, keyStart: -1, keyEnd: -1 });
      atKey = c === 0x7b;
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      atKey = false;
      i++;
    } else if (c === 0x2c) {
      // ,
      const top = stack[stack.length - 1];
      if (top.array) top.index++;
      else atKey = true;
      i++;
    } else if (c === 0x3a) {
      atKey = false;
      i++;
    } else if (c === 0x22) {
      const end = endOfString(text, i);
      if (typeof end !== 'number') return at(atKey, atKey ? keyMessage(end.message) : end.message);
      if (atKey) {
        const top = stack[stack.length - 1];
        top.keyStart = i;
        top.keyEnd = end;
        if (isProtoKey(text.slice(i, end))) return at(true, PROTO_MESSAGE);
      }
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const problem = numberProblem(text.slice(i, end));
      if (problem) return at(false, problem);
      i = end;
    } else {
      i++;
    }
  }
  return null;
}

/** The index just past the string that opens at `start`, or why the string cannot be stored. */
function endOfString(text: string, start: number): number | { message: string } {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      if (text.charCodeAt(i + 1) !== 0x75) {
        i += 2;
        continue;
      }
      const unit = parseInt(text.slice(i + 2, i + 6), 16);
      if (unit === 0) return { message: NUL_MESSAGE };
      if (isHighSurrogate(unit)) {
        const next = text.charCodeAt(i + 6) === 0x5c && text.charCodeAt(i + 7) === 0x75 ? parseInt(text.slice(i + 8, i + 12), 16) : NaN;
        if (!isLowSurrogate(next)) return { message: SURROGATE_MESSAGE };
        i += 12;
        continue;
      }
      if (isLowSurrogate(unit)) return { message: SURROGATE_MESSAGE };
      i += 6;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      // A raw surrogate in the text itself (only possible when the text did not come from UTF-8).
      if (!isHighSurrogate(c) || !isLowSurrogate(text.charCodeAt(i + 1))) return { message: SURROGATE_MESSAGE };
      i += 2;
      continue;
    }
    i++;
  }
}

/**
 * Checks a value built in memory (a queue participant's reply, already
 * decoded from JSON): strings, keys, numbers and depth, as above.
 */
export function jsonValueProblem(root: unknown): JsonProblem | null {
  const pending: Array<{ value: unknown; segments: Array<string | number> }> = [{ value: root, segments: [] }];
  while (pending.length > 0) {
    const { value, segments } = pending.pop()!;
    if (typeof value === 'string') {
      const message = stringProblem(value);
      if (message) return { segments, message };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { segments, message: 'is not a finite number' };
    } else if (value !== null && typeof value === 'object') {
      if (segments.length >= MAX_JSON_DEPTH) return { segments: segments.slice(0, 1), message: DEPTH_MESSAGE };
      if (Array.isArray(value)) {
        value.forEach((item, index) => pending.push({ value: item, segments: [...segments, index] }));
        continue;
      }
      for (const [key, item] of Object.entries(value)) {
        if (key === '__proto__') return { segments, message: PROTO_MESSAGE };
        const keyProblem = stringProblem(key);
        if (keyProblem) return { segments, message: keyMessage(keyProblem) };
        pending.push({ value: item, segments: [...segments, key] });
      }
    } else if (typeof value !== 'boolean' && value !== null) {
      return { segments, message: `is a ${typeof value}, which JSON cannot hold` };
    }
  }
  return null;
}

/** Why a string cannot be stored as text in PostgreSQL, or null. */
export function stringProblem(value: string): string | null {
  if (value.includes('\0')) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(value)) return SURROGATE_MESSAGE;
  return null;
}

/**
 * A diagnostic text (a participant's error message or failed response body)
 * made storable: NUL and unpaired surrogates become visible `\uXXXX` escapes.
 * `escaped` says whether anything changed, so the error can say so.
 */
export function storableText(value: string): { text: string; escaped: boolean } {
  if (stringProblem(value) === null) return { text: value, escaped: false };
  // Replacing them with U+FFFD would hide what was sent; spell them out instead.
  const text = value.replace(new RegExp(`\\0|${LONE_SURROGATE.source}`, 'g'), (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { text, escaped: true };
}

/**
 * Whether a number literal keeps its decimal value through a double: `1.50`
 * and `1.5` are the same number, `0.1` is stored as 0.1, but `1e400`
 * (Infinity), `1e-400` (0) and `12345678901234567890` (…567000) are not kept.
 */
function numberProblem(literal: string): string | null {
  // Up to 15 significant digits always survive a double exactly (the common case: no work).
  if (literal.length <= 15 && !/[eE]/.test(literal)) return null;
  const value = Number(literal);
  if (!Number.isFinite(value)) return `is ${literal}, beyond the largest number that can be stored (about 1.8e308)`;
  if (decimalKey(literal) !== decimalKey(String(value))) {
    return `is ${literal}, which cannot be stored exactly (it would become ${String(value)}); send it as a string to keep every digit`;
  }
  return null;
}

/** A number literal's decimal value as `digits e exponent`, without leading or trailing zeros. */
function decimalKey(literal: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) return literal;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let power = Number(exponent) - fraction.length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  power += trailing;
  return `${sign}${digits}e${power}`;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function keyMessage(message: string): string {
  return `has a key that ${message}`;
}

/** A quoted key as it appears in the text: `"__proto__"`, or the same spelled with escapes. */
function isProtoKey(quoted: string): boolean {
  if (quoted === '"__proto__"') return true;
  return quoted.length > 11 && quoted.includes('\\') && JSON.parse(quoted) === '__proto__';
}

function pathOf(text: string, stack: Frame[], inKey: boolean): Array<string | number> {
  return stack.flatMap((frame, depth): Array<string | number> => {
    if (frame.array) return [frame.index];
    const innermost = depth === stack.length - 1;
    if ((innermost && inKey) || frame.keyStart < 0) return [];
    return [JSON.parse(text.slice(frame.keyStart, frame.keyEnd)) as string];
  });
}
