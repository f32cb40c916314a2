import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Agent } from 'undici';
import { guardedDispatcher } from './guarded-dispatcher.js';
import { OutboundPolicy } from './outbound-policy.js';

/** The policy with the connection pool that enforces it, for participant calls. */
@Injectable()
export class GuardedHttp implements OnApplicationShutdown {
  readonly dispatcher: Agent;

  constructor(readonly policy: OutboundPolicy) {
    this.dispatcher = guardedDispatcher(policy);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }
}

@Global()
@Module({ providers: [OutboundPolicy, GuardedHttp], exports: [OutboundPolicy, GuardedHttp] })
export class OutboundModule {}
