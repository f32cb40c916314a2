import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Agent } from 'undici';
import { guardedDispatcher } from './guarded-dispatcher.js';
import { OutboundPolicy } from './outbound-policy.js';
import { ParticipantHosts } from './participant-hosts.js';

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
@Module({ providers: [OutboundPolicy, GuardedHttp, ParticipantHosts], exports: [OutboundPolicy, GuardedHttp, ParticipantHosts] })
export class OutboundModule {}
