import { Global, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
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

/**
 * Warns loudly when Redis may evict keys: BullMQ's jobs would vanish under
 * memory pressure. (The reconciler recovers lost work, at the cost of delay.)
 */
@Injectable()
export class RedisSettingsCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('redis');

  constructor(private readonly redis: RedisConnection) {}

  onApplicationBootstrap(): void {
    const check = async () => {
      try {
        const [, policy] = (await this.redis.client.config('GET', 'maxmemory-policy')) as [string, string];
        if (policy === 'noeviction') {
          this.logger.debug('Redis maxmemory-policy is "noeviction"');
        } else {
          this.logger.warn(
            `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may delete queued work. ` +
              'Set it with: CONFIG SET maxmemory-policy noeviction (and in redis.conf).',
          );
        }
      } catch (error) {
        this.logger.warn(`could not read Redis maxmemory-policy (${(error as Error).message}); make sure it is "noeviction".`);
      }
    };
    if (this.redis.client.status === 'ready') void check();
    else this.redis.client.once('ready', () => void check());
  }
}

@Global()
@Module({ providers: [RedisConnection, RedisSettingsCheck], exports: [RedisConnection] })
export class RedisModule {}
