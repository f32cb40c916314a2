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
    const errors: FieldError[] = [];
    let result: unknown;
    try {
      result = await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== ErrorCode.VALIDATION_FAILED) throw error;
      errors.push(...((error.details.errors as FieldError[]) ?? []));
    }
    if (hasCrossFieldChecks(metadata.metatype)) errors.push(...metadata.metatype.crossFieldErrors(value));
    if (errors.length > 0) throw AppError.validation(errors);
    return result;
  }
}

function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
