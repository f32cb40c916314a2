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
    // Placeholders (SPEC §11) are judged as the text they stand for; their own syntax is checked with the definition's rules.
    url = new URL(withoutPlaceholders(value));
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http:// or https:// URL';
  return null;
}

/** The URL with each `${…}` placeholder replaced by a plain word, for checks of the URL's shape. */
export function withoutPlaceholders(url: string): string {
  return url.replace(/\$\{[^}]*\}/g, 'x');
}

/** Whether the URL's scheme-and-host part holds a placeholder: its address is known only when the step runs. */
export function hostIsMapped(url: string): boolean {
  const afterScheme = url.indexOf('//');
  const hostEnd = url.slice(afterScheme + 2).search(/[/?#]/);
  const origin = hostEnd < 0 ? url : url.slice(0, afterScheme + 2 + hostEnd);
  return origin.includes('${');
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
