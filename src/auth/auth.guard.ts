import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../common/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthFailures } from './auth-failures.js';
import { ANY_SCOPE, Principal, PUBLIC_KEY, RouteScope, SCOPE_KEY, SCOPES } from './scopes.js';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

const AUTH_DISABLED: Principal = { id: 'auth-disabled', name: 'auth-disabled', scopes: SCOPES };

/** The key of a request: `Authorization: Bearer <key>`, else `X-API-Key: <key>`. */
export function presentedKey(request: FastifyRequest): string | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1] : null;
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : null;
}

/**
 * Who a presented key stands for, if it may use `scope`: the one decision
 * behind the API's guard and the queue dashboard. Throws UNAUTHENTICATED
 * without a valid key and FORBIDDEN without the scope.
 */
export async function authorize(keys: ApiKeysService, key: string | null, scope: RouteScope | undefined): Promise<Principal> {
  const principal = key ? await keys.verify(key) : null;
  if (!principal) {
    throw new AppError(
      ErrorCode.UNAUTHENTICATED,
      key ? 'The API key is unknown, expired or revoked.' : 'Send an API key: Authorization: Bearer <key> (or X-API-Key).',
    );
  }
  if (!scope) throw new AppError(ErrorCode.FORBIDDEN, 'This endpoint declares no scope, so no key may call it.');
  if (scope !== ANY_SCOPE && !principal.scopes.includes(scope)) {
    throw new AppError(ErrorCode.FORBIDDEN, `This API key lacks the scope "${scope}".`, { requiredScope: scope });
  }
  return principal;
}

/**
 * Every route needs the scope it declares with @RequireScope, or is @Public.
 * A route that declares neither is refused, so a forgotten declaration fails
 * closed. 401 without a valid key, 403 without the scope.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly config: AppConfig,
    private readonly failures: AuthFailures,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const scope = this.reflector.getAllAndOverride<RouteScope | undefined>(SCOPE_KEY, targets);
    if (this.config.authDisabled) {
      request.principal = AUTH_DISABLED;
      return true;
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = presentedKey(request);
    // A key not verified lately costs a lookup: an address that keeps presenting bad ones waits first.
    if (key && !this.keys.recentlyVerified(key)) {
      const wait = await this.failures.retryAfterSeconds(request.ip);
      if (wait > 0) {
        void reply.header('retry-after', String(wait));
        throw new AppError(ErrorCode.RATE_LIMITED, `Too many failed authentications from this address; retry in ${wait} s.`, { retryAfterSeconds: wait });
      }
    }
    try {
      request.principal = await authorize(this.keys, key, scope);
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.UNAUTHENTICATED) {
        if (key) await this.failures.record(request.ip);
        void reply.header('www-authenticate', 'Bearer');
      }
      throw error;
    }
    return true;
  }
}
