import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/app-config.js';
import { TEST_ADMIN_KEY } from './api-key.js';
import { createTestDatabase, TestDatabase } from './test-database.js';
import { BASE_REDIS_URL, createTestRedisPrefix } from './test-redis.js';

export interface TestApp {
  app: NestFastifyApplication;
  baseUrl: string;
  database: TestDatabase;
  redisPrefix: string;
  /** Stops the server and starts a new one on the same database and prefix (a new port). */
  restart(during?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real application on a random port, against its own database and Redis
 * prefix (or those of `shareWith`: another instance of one deployment);
 * `env` overrides configuration variables.
 */
export async function startTestApp(env: Record<string, string> = {}, shareWith?: TestApp): Promise<TestApp> {
  // A second instance on the same database and Redis prefix leaves them to the first one to drop.
  const database = shareWith ? { ...shareWith.database, drop: async () => undefined } : await createTestDatabase();
  const redis = shareWith ? { prefix: shareWith.redisPrefix, cleanup: async () => undefined } : createTestRedisPrefix();
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL: BASE_REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    DB_POOL_SIZE: '5',
    BOOTSTRAP_ADMIN_KEY: TEST_ADMIN_KEY,
    // The tests' participants listen on loopback, which the SSRF guard refuses by default.
    PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8',
    // Every test client shares 127.0.0.1, and many tests present bad keys on purpose.
    AUTH_FAILURES_PER_MINUTE: '1000000',
    ...env,
  });
  const listen = async () => {
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    return { app, baseUrl: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
  };
  const testApp: TestApp = {
    ...(await listen()),
    database,
    redisPrefix: redis.prefix,
    async restart(during) {
      await testApp.app.close();
      await during?.();
      Object.assign(testApp, await listen());
    },
    async close() {
      await testApp.app.close();
      await redis.cleanup();
      await database.drop();
    },
  };
  return testApp;
}
