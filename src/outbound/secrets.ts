/** A reference to a configured secret inside a header value: `${secret:NAME}`. */
export const SECRET_REFERENCE = /\$\{secret:([A-Z0-9_]{1,64})\}/g;
const ANY_REFERENCE_START = /\$\{secret:/;

/**
 * Headers whose values are credentials. A definition may only fill them with
 * secret references, so a credential is never stored, shown or logged; the
 * value is put in at dispatch.
 */
export const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token', 'x-access-token']);

/** Secrets come from the environment: SAGA_SECRET_<NAME>=value. */
export const SECRET_ENV = /^SAGA_SECRET_([A-Z0-9_]{1,64})$/;

export function secretsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const match = SECRET_ENV.exec(key);
    if (match && value) secrets[match[1]] = value;
  }
  return secrets;
}

/** Why a header value's secret references are malformed or a sensitive header holds a literal, or null. */
export function secretSyntaxProblem(name: string, value: string): string | null {
  const stripped = value.replace(SECRET_REFERENCE, '');
  if (ANY_REFERENCE_START.test(stripped)) return `value of "${name}" has a malformed secret reference; write \${secret:NAME} with NAME in A-Z, 0-9 and _`;
  if (SENSITIVE_HEADERS.has(name.toLowerCase()) && stripped === value) {
    return `value of "${name}" must come from a secret (e.g. "Bearer \${secret:PAYMENTS_TOKEN}"), never a literal credential`;
  }
  return null;
}

/** The secret names a header map refers to. */
export function secretNames(headers: Record<string, string>): string[] {
  return Object.values(headers).flatMap((v) => [...v.matchAll(SECRET_REFERENCE)].map((m) => m[1]));
}

/** The headers with every reference replaced by its secret; `missing` names any not configured. */
export function resolveSecrets(headers: Record<string, string>, secrets: Readonly<Record<string, string>>): { headers: Record<string, string>; missing: string[] } {
  const missing: string[] = [];
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) resolved[name] = resolveSecretText(value, secrets, missing);
  return { headers: resolved, missing };
}

/** One text with every reference replaced by its secret; names not configured are added to `missing`. */
export function resolveSecretText(text: string, secrets: Readonly<Record<string, string>>, missing: string[]): string {
  return text.replace(SECRET_REFERENCE, (_ref, secret: string) => {
    if (secrets[secret] === undefined) {
      missing.push(secret);
      return '';
    }
    return secrets[secret];
  });
}
