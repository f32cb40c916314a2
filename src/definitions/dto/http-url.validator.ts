import { registerDecorator } from 'class-validator';

/**
 * Why a participant URL is not an absolute http(s) URL, or null. Parsed as
 * the WHATWG URL parser (and undici) will parse it for the call, so the
 * participant policy judges the address that will really be reached: IPv4 in
 * any spelling (`127.1`, `2130706433`) and trailing dots are the policy's to
 * refuse, with its own reason. Spaces and control characters are refused
 * rather than stripped, so the stored URL is the one called.
 */
export function httpUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (/[\u0000-\u0020\u007f]/.test(value)) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http:// or https:// URL';
  return null;
}

export function IsHttpUrl(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHttpUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => httpUrlProblem(value) === null,
        defaultMessage: (args) => httpUrlProblem(args?.value) ?? 'must be an absolute http:// or https:// URL',
      },
    });
}
