import { SetMetadata } from '@nestjs/common';

/** What an API key may do; every endpoint declares the one it needs. */
export const SCOPES = ['definitions:read', 'definitions:write', 'sagas:read', 'sagas:write', 'sagas:replay', 'sagas:signal', 'keys:admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_KEY = 'saga:scope';
export const PUBLIC_KEY = 'saga:public';

/** What a route may declare: one scope, or any valid key whatever its scopes. */
export const ANY_SCOPE = '*';
export type RouteScope = Scope | typeof ANY_SCOPE;

/** The scope a route needs. A route with neither this, @AnyValidKey() nor @Public() is refused (fail closed). */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

/** Any valid key may call the route, whatever its scopes (e.g. to learn its own scopes). */
export const AnyValidKey = () => SetMetadata(SCOPE_KEY, ANY_SCOPE);

/** Open to anyone: health checks and the API documentation. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Who made a request: set on the request by the auth guard. */
export interface Principal {
  /** The key's id, or "bootstrap" / "auth-disabled". */
  id: string;
  /** The key's name: what history and the audit trail record. */
  name: string;
  scopes: readonly Scope[];
}
