/**
 * Data mapping (SPEC §11): placeholders in an HTTP step's `url`, header
 * values and `body`, rendered from the saga's input, earlier steps' outputs
 * and the saga's own fields. Pure: parsing, checking and rendering take
 * everything as arguments; nothing here can run code (a placeholder is a
 * path, never an expression).
 *
 *   ${input.order.items[0].sku}   ${results.reserve-inventory.id}   ${saga.id}
 *
 * `${secret:NAME}` is not a data placeholder: it is left as it is, for the
 * secrets of the header (src/outbound/secrets.ts) to be put in at the call.
 */

/** A key or an index of a path into JSON. */
export type PathSegment = string | number;

export type Reference =
  | { source: 'input'; path: PathSegment[] }
  | { source: 'results'; step: string; path: PathSegment[] }
  | { source: 'saga'; field: SagaField };

export const SAGA_PLACEHOLDER_FIELDS = ['id', 'run', 'correlationId'] as const;
export type SagaField = (typeof SAGA_PLACEHOLDER_FIELDS)[number];

/** A string with its placeholders: literal text and references, in order. */
export type Template = Array<string | Reference>;

/** What placeholders are rendered from. */
export interface MappingContext {
  input: unknown;
  results: Readonly<Record<string, unknown>>;
  saga: { id: string; run: number; correlationId: string | null };
}

/** Indices up to 2^31 - 1, as JSON arrays go in practice. */
const MAX_INDEX = 2_147_483_647;
const SECRET = /^secret:[A-Z0-9_]{1,64}$/;
/** A key in a dotted path: anything but the path's own punctuation. */
const KEY = /^[^.[\]{}$\s]+$/;

export class MappingSyntaxError extends Error {}

/**
 * Parses the placeholders of `text`. A `results.` reference is resolved
 * against `stepNames` (step names may hold dots, so the longest name that
 * the reference starts with wins). Throws MappingSyntaxError with the reason.
 */
export function parseTemplate(text: string, stepNames: readonly string[]): Template {
  const parts: Template = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    if (start < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, start);
    const end = text.indexOf('}', start + 2);
    if (end < 0) throw new MappingSyntaxError(`the placeholder at character ${start} has no closing "}"`);
    const body = text.slice(start + 2, end);
    if (SECRET.test(body)) {
      literal += text.slice(start, end + 1);
    } else {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(parseReference(body, stepNames));
    }
    i = end + 1;
  }
  if (literal) parts.push(literal);
  return parts;
}

function parseReference(body: string, stepNames: readonly string[]): Reference {
  const where = `\${${body}}`;
  if (body === 'input' || body.startsWith('input.') || body.startsWith('input[')) {
    return { source: 'input', path: parsePath(body.slice('input'.length), where) };
  }
  if (body.startsWith('saga.')) {
    const field = body.slice('saga.'.length);
    if (!(SAGA_PLACEHOLDER_FIELDS as readonly string[]).includes(field)) throw new MappingSyntaxError(`${where}: a saga field is one of ${SAGA_PLACEHOLDER_FIELDS.join(', ')}`);
    return { source: 'saga', field: field as SagaField };
  }
  if (body.startsWith('results.')) {
    const rest = body.slice('results.'.length);
    const step = stepNames
      .filter((name) => rest === name || rest.startsWith(`${name}.`) || rest.startsWith(`${name}[`))
      .sort((a, b) => b.length - a.length)[0];
    if (step === undefined) throw new MappingSyntaxError(`${where}: no step of this definition is named ${JSON.stringify(rest.split(/[.[]/)[0])}`);
    return { source: 'results', step, path: parsePath(rest.slice(step.length), where) };
  }
  throw new MappingSyntaxError(`${where}: a placeholder starts with input, results.<step>, saga. or secret:`);
}

/** `.a.b[0].c` (or empty) → ['a', 'b', 0, 'c']. */
function parsePath(text: string, where: string): PathSegment[] {
  const path: PathSegment[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '.') {
      let j = i + 1;
      while (j < text.length && text[j] !== '.' && text[j] !== '[') j++;
      const key = text.slice(i + 1, j);
      if (!KEY.test(key)) throw new MappingSyntaxError(`${where}: ${key ? `"${key}" is not a valid key` : 'a path has an empty key'}`);
      path.push(key);
      i = j;
    } else if (text[i] === '[') {
      const close = text.indexOf(']', i);
      const digits = close < 0 ? '' : text.slice(i + 1, close);
      if (!/^(0|[1-9][0-9]{0,9})$/.test(digits) || Number(digits) > MAX_INDEX) throw new MappingSyntaxError(`${where}: an index is [n] with n a whole number`);
      path.push(Number(digits));
      i = close + 1;
    } else {
      throw new MappingSyntaxError(`${where}: a path goes on with ".key" or "[n]"`);
    }
  }
  return path;
}

/** The steps a template reads the outputs of. */
export function referencedSteps(template: Template): string[] {
  return template.flatMap((part) => (typeof part !== 'string' && part.source === 'results' ? [part.step] : []));
}

/** What a placeholder names in `ctx`, or why there is nothing there. */
export function lookUp(ref: Reference, ctx: MappingContext): { found: true; value: unknown } | { found: false; reason: string } {
  if (ref.source === 'saga') return { found: true, value: ctx.saga[ref.field] };
  let value: unknown = ref.source === 'input' ? ctx.input : ctx.results[ref.step];
  let at = ref.source === 'input' ? 'input' : `results.${ref.step}`;
  if (ref.source === 'results' && !Object.hasOwn(ctx.results, ref.step)) return { found: false, reason: `step "${ref.step}" has no output in this run` };
  for (const segment of ref.path) {
    const has =
      typeof segment === 'number'
        ? Array.isArray(value) && segment < value.length
        : value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, segment);
    if (!has) return { found: false, reason: `${at} has no ${typeof segment === 'number' ? `[${segment}]` : `"${segment}"`}` };
    value = (value as Record<string | number, unknown>)[segment];
    at += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  }
  return value === undefined ? { found: false, reason: `${at} is undefined` } : { found: true, value };
}

/** A placeholder with nothing to put in: the step fails for good with MAPPING_FAILED, before any call. */
export class MappingFailed extends Error {}

function placeholderText(ref: Reference): string {
  if (ref.source === 'saga') return `\${saga.${ref.field}}`;
  const path = ref.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
  return ref.source === 'input' ? `\${input${path}}` : `\${results.${ref.step}${path}}`;
}

function valueOf(ref: Reference, ctx: MappingContext): unknown {
  const found = lookUp(ref, ctx);
  if (!found.found) throw new MappingFailed(`${placeholderText(ref)}: ${found.reason}`);
  return found.value;
}

/** A value as text inside a longer string: strings as they are, anything else as its JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A template's text; `encode` applies to substituted values only (percent-encoding in URLs). */
export function renderText(template: Template, ctx: MappingContext, encode: (text: string) => string = (text) => text): string {
  return template.map((part) => (typeof part === 'string' ? part : encode(asText(valueOf(part, ctx))))).join('');
}

/**
 * A `body` with its placeholders put in: a string that is exactly one
 * placeholder becomes the value with its JSON type; one inside a longer
 * string is replaced by its text. Keys are kept as they are.
 */
export function renderBody(body: unknown, ctx: MappingContext, stepNames: readonly string[]): unknown {
  if (typeof body === 'string') {
    const template = parseTemplate(body, stepNames);
    if (template.length === 1 && typeof template[0] !== 'string') return valueOf(template[0], ctx);
    return renderText(template, ctx);
  }
  if (Array.isArray(body)) return body.map((item) => renderBody(item, ctx, stepNames));
  if (body !== null && typeof body === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) Object.defineProperty(out, key, { value: renderBody(value, ctx, stepNames), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return body;
}

/** Every string of a `body` (values, not keys), with where it is, for the checks at registration. */
export function bodyStrings(body: unknown, at: PathSegment[] = []): Array<{ at: PathSegment[]; text: string }> {
  if (typeof body === 'string') return [{ at, text: body }];
  if (Array.isArray(body)) return body.flatMap((item, i) => bodyStrings(item, [...at, i]));
  if (body !== null && typeof body === 'object') return Object.entries(body).flatMap(([key, value]) => bodyStrings(value, [...at, key]));
  return [];
}

/** An HTTP action's request with its placeholders parsed (SPEC §11): compiled once per definition version. */
export interface RequestTemplate {
  url: Template;
  headers: Array<[name: string, value: Template]>;
  /** The body as stored (its strings are parsed when rendered), or undefined: the participant gets the envelope. */
  body: unknown;
  hasBody: boolean;
  /** The definition's step names, which `results.` placeholders in the body resolve against. */
  stepNames: readonly string[];
}

/** What a participant is sent, as rendered from a RequestTemplate. */
export interface RenderedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** The parts of an HTTP action a RequestTemplate is compiled from (definition.model's HttpAction). */
export interface MappedAction {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** Whether an action has anything to render: a body, or a placeholder in its URL or a header value. */
export function isMapped(template: RequestTemplate): boolean {
  const hasRef = (t: Template) => t.some((part) => typeof part !== 'string');
  return template.hasBody || hasRef(template.url) || template.headers.some(([, value]) => hasRef(value));
}

/** Parses an action's placeholders; throws MappingSyntaxError (checked at registration, so stored actions parse). */
export function compileRequest(action: MappedAction, stepNames: readonly string[]): RequestTemplate {
  return {
    url: parseTemplate(action.url, stepNames),
    headers: Object.entries(action.headers).map(([name, value]) => [name, parseTemplate(value, stepNames)]),
    body: action.body,
    hasBody: action.body !== undefined,
    stepNames,
  };
}

/** Header values a participant can be sent: visible ASCII, spaces, tabs and Latin-1 text, nothing that splits a header. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEADER_VALUE_MAX = 8_192;

/**
 * Renders a request for its call, or for the attempt's `…Started` event.
 * URL values are percent-encoded. `literal` transforms the template's own
 * text only (the worker puts secrets into header values there, so a value
 * from the saga's data can never name a secret). Throws MappingFailed when a
 * value is missing or cannot go where it is put.
 */
export function renderRequest(
  action: Pick<MappedAction, 'method'>,
  template: RequestTemplate,
  ctx: MappingContext,
  literal: (text: string) => string = (text) => text,
): RenderedRequest {
  const url = renderText(template.url, ctx, encodeURIComponent);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new MappingFailed(`the rendered URL ${JSON.stringify(url.slice(0, 200))} is not an absolute http(s) URL`);
  const headers: Record<string, string> = {};
  for (const [name, value] of template.headers) {
    const text = value.map((part) => (typeof part === 'string' ? literal(part) : asText(valueOf(part, ctx)))).join('');
    if (!HEADER_VALUE.test(text) || text.length > HEADER_VALUE_MAX) {
      throw new MappingFailed(`header "${name}": the rendered value ${text.length > HEADER_VALUE_MAX ? `is over ${HEADER_VALUE_MAX} characters` : 'holds characters a header value cannot carry (control characters or text beyond Latin-1)'}`);
    }
    headers[name] = text;
  }
  const rendered: RenderedRequest = { method: action.method, url, headers };
  if (template.hasBody) rendered.body = renderBody(template.body, ctx, template.stepNames);
  return rendered;
}
