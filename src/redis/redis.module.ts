import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';

/**
 * The process's general-purpose Redis connection (health checks, settings
 * checks). BullMQ opens its own connections, which need different options.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('redis');
  readonly client: Redis;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.client = new Redis(config.redisUrl, {
      // Fail commands at once while disconnected instead of queueing them.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectionName: 'saga-orchestrator',
    });
    let reported = false;
    this.client.on('error', (error: Error) => {
      if (!reported) this.logger.warn(`Redis connection problem: ${error.message}`);
      reported = true;
    });
    this.client.on('ready', () => (reported = false));
  }

  async onApplicationShutdown(): Promise<void> {
    // While reconnecting, ioredis 6 leaves a 2 s timer of its own after this
    // ("stream still open, destroying it"); it ends by itself.
    this.client.disconnect();
  }
}

@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
