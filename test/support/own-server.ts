import { startServerProcess, type ServerProcess } from './server-process.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { BASE_REDIS_URL, createTestRedisPrefix } from './test-redis.js';

export interface OwnServer {
  server: ServerProcess;
  database: TestDatabase;
  redisPrefix: string;
  /** Stops the server, then removes its Redis keys and drops its database. */
  close(): Promise<void>;
}

/** The compiled server as a child process, on a database and Redis prefix of its own; `env` adds settings. */
export async function startOwnServer(env: Record<string, string> = {}): Promise<OwnServer> {
  const database = await createTestDatabase();
  const prefix = createTestRedisPrefix();
  const server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL: BASE_REDIS_URL, REDIS_PREFIX: prefix.prefix, ...env });
  return {
    server,
    database,
    redisPrefix: prefix.prefix,
    async close() {
      await server.stop();
      await prefix.cleanup();
      await database.drop();
    },
  };
}
