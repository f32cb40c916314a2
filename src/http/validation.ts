import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { AppError, ErrorCode, FieldError } from '../common/app-error.js';
import { fieldError } from '../common/field-error.js';

/**
 * Flattens class-validator's error tree into one entry per offending field,
 * named as users write paths: `steps[1].action.url`.
 */
export function flattenValidationErrors(errors: ValidationError[], parent: string[] = []): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const segments = [...parent, error.property];
    for (const message of Object.values(error.constraints ?? {})) {
      out.push(fieldError(segments, humanize(message, error.property)));
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, segments));
  }
  return out;
}

/** class-validator messages start with the bare property name; the path already names it. */
function humanize(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

/** A DTO class may add checks that span fields; they run on the raw input. */
interface WithCrossFieldChecks {
  crossFieldErrors(raw: unknown): FieldError[];
}

function hasCrossFieldChecks(metatype: unknown): metatype is WithCrossFieldChecks {
  return typeof (metatype as Partial<WithCrossFieldChecks> | undefined)?.crossFieldErrors === 'function';
}

/**
 * A DTO class may name fields that hold free-form JSON (`input`,
 * `steps.*.action.headers`; `*` is any array index). class-transformer would
 * rebuild them and drop keys named like `Object.prototype` members
 * (`constructor`, `toString`) without a word, so they bypass it: validated
 * without them, then put back exactly as sent. Their own checks belong in
 * `crossFieldErrors`.
 */
function keptAsSentOf(metatype: unknown): readonly string[] {
  return (metatype as { keptAsSent?: readonly string[] } | undefined)?.keptAsSent ?? [];
}

type Segments = Array<string | number>;

/** A copy of `root` without the values at `paths`, and those values with where they were. */
export function detachKeptFields(root: unknown, paths: readonly string[]): { structure: unknown; kept: Array<{ segments: Segments; value: unknown }> } {
  const kept: Array<{ segments: Segments; value: unknown }> = [];
  const detach = (node: unknown, rest: string[], at: Segments): unknown => {
    if (!node || typeof node !== 'object') return node;
    const [head, ...tail] = rest;
    if (head === '*') return Array.isArray(node) ? node.map((item, i) => detach(item, tail, [...at, i])) : node;
    if (Array.isArray(node) || !Object.hasOwn(node, head)) return node;
    const copy: Record<string, unknown> = { ...(node as Record<string, unknown>) };
    if (tail.length === 0) {
      kept.push({ segments: [...at, head], value: copy[head] });
      delete copy[head];
    } else {
      copy[head] = detach(copy[head], tail, [...at, head]);
    }
    return copy;
  };
  let structure = root;
  for (const path of paths) structure = detach(structure, path.split('.'), []);
  return { structure, kept };
}

function reattach(target: unknown, kept: Array<{ segments: Segments; value: unknown }>): void {
  for (const { segments, value } of kept) {
    let node = target as Record<string | number, unknown> | undefined;
    for (const segment of segments.slice(0, -1)) node = node?.[segment] as Record<string | number, unknown> | undefined;
    if (node && typeof node === 'object') node[segments[segments.length - 1]] = value;
  }
}

/**
 * Keys that class-transformer drops silently because `Object.prototype`
 * has them (`constructor`, `toString`, …). No DTO field has such a name, so
 * outside free-form fields they are unknown fields: reported, not dropped.
 */
function prototypeKeyErrors(root: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const pending: Array<{ node: unknown; at: Segments }> = [{ node: root, at: [] }];
  while (pending.length > 0) {
    const { node, at } = pending.pop()!;
    if (!node || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      const segments = Array.isArray(node) ? [...at, Number(key)] : [...at, key];
      if (!Array.isArray(node) && key in Object.prototype) errors.push(fieldError(segments, 'is not a known field'));
      else pending.push({ node: value, at: segments });
    }
  }
  return errors;
}

/**
 * The one validation pipe: DTO classes are the whitelist, unknown fields are
 * errors, types are never coerced silently, and every error is reported in
 * one response (field rules and cross-field rules together).
 */
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      // One message per field: its first failed rule. Decorators register bottom-up, so
      // each DTO declares its type rule last (next to the property) to have it checked first.
      stopAtFirstError: true,
      validationError: { target: false, value: false },
      transformOptions: { enableImplicitConversion: false },
      exceptionFactory: (errors) => AppError.validation(flattenValidationErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // No body at all is an empty object: optional bodies may be left out, and
    // required fields are then reported by name.
    if (metadata.type === 'body' && value === undefined) value = {};
    const isDto = typeof metadata.metatype === 'function' && this.toValidate(metadata);
    if (isDto && (metadata.type === 'body' || metadata.type === 'query') && !isPlainObject(value)) {
      throw AppError.validation([{ path: '', pointer: '', message: `the ${metadata.type} must be a JSON object` }]);
    }
    const { structure, kept } = isDto && metadata.type === 'body' ? detachKeptFields(value, keptAsSentOf(metadata.metatype)) : { structure: value, kept: [] };
    const errors: FieldError[] = isDto ? prototypeKeyErrors(structure) : [];
    let result: unknown;
    try {
      result = await super.transform(structure, metadata);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== ErrorCode.VALIDATION_FAILED) throw error;
      errors.push(...((error.details.errors as FieldError[]) ?? []));
    }
    if (hasCrossFieldChecks(metadata.metatype)) errors.push(...metadata.metatype.crossFieldErrors(value));
    if (errors.length > 0) throw AppError.validation(errors);
    reattach(result, kept);
    return result;
  }
}

function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
