import { Global, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppConfig } from '../config/app-config.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuditLog } from './audit.js';
import { AuthFailures } from './auth-failures.js';
import { AuthGuard } from './auth.guard.js';
import { KeysController } from './keys.controller.js';

/**
 * API keys, scopes and the audit trail, for the API role. The guard decides
 * who is calling and whether they may; per-key rate limits run before it
 * (http/rate-limit.ts).
 */
@Global()
@Module({
  controllers: [KeysController],
  providers: [ApiKeysRepository, ApiKeysService, AuditLog, AuthFailures, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuditLog, ApiKeysService],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('auth');

  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    if (this.config.authDisabled) {
      this.logger.warn('AUTH_DISABLED=true: every request is allowed without an API key. Never run a shared server like this.');
    } else if (!this.config.bootstrapAdminKey) {
      this.logger.log('no BOOTSTRAP_ADMIN_KEY set: only keys already created can call the API');
    }
  }
}
