import { registerDecorator, ValidationOptions } from 'class-validator';

/** A URL with one of the given protocols and a host (credentials allowed). */
export function IsConnectionUrl(protocols: string[], options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isConnectionUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`, ...options },
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return protocols.includes(url.protocol) && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
      },
    });
  };
}
