// Helpers shared by the benchmarks: a keep-alive JSON client of the server
// under test, and database URLs and admin statements.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import pg from 'pg';

export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/saga';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The bootstrap admin key the benchmarks start their server with (BOOTSTRAP_ADMIN_KEY), new each run. */
export const BENCH_ADMIN_KEY = randomBytes(36).toString('base64url');

/** A JSON client of `baseUrl` over keep-alive connections, as the bench admin: `call(method, path, body?)` → `{ status, body }`. */
export function jsonClient(baseUrl, maxSockets = 256) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const call = (method, urlPath, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${baseUrl}${urlPath}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${BENCH_ADMIN_KEY}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
}

export function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs `fn(client)` on a connection to `url`, closed afterwards. */
export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A statement on the server's `postgres` database (CREATE / DROP DATABASE). */
export function admin(sql) {
  return withClient(withDatabase(BASE_DATABASE_URL, 'postgres'), (c) => c.query(sql));
}

/**
 * Runs `task` `n` times with `concurrency` of them in flight; returns the
 * latencies (ms, in completion order). `onDone(count)` is told after each.
 */
export async function runInFlight(n, concurrency, task, onDone = () => {}) {
  const lat = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        next++;
        lat.push(await task());
        onDone(lat.length);
      }
    }),
  );
  return lat;
}
