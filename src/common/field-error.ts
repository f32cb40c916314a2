import type { FieldError } from './app-error.js';

/** `['steps', 1, 'action', 'url']` → `steps[1].action.url` (numeric segments are indexes). */
export function formatFieldPath(segments: ReadonlyArray<string | number>): string {
  return segments.reduce<string>((path, s) => {
    const isIndex = typeof s === 'number' || /^\d+$/.test(s);
    return isIndex ? `${path}[${s}]` : path ? `${path}.${s}` : s;
  }, '');
}

/** RFC 6901 JSON pointer of the same segments. */
export function formatFieldPointer(segments: ReadonlyArray<string | number>): string {
  return '/' + segments.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export function fieldError(segments: ReadonlyArray<string | number>, message: string): FieldError {
  return { path: formatFieldPath(segments), pointer: formatFieldPointer(segments), message };
}
