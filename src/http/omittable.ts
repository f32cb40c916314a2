import { ValidateIf } from 'class-validator';

/**
 * An optional field that may be left out but not sent as null: unlike
 * `@IsOptional()`, a null is checked (and refused by the field's type rule)
 * instead of being read as "not given". For fields where null would widen
 * what a request does, such as bulk replay's filters and `dryRun`.
 */
export function Omittable(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
