#!/usr/bin/env node
// Read-side latency at scale: seeds READ_N sagas (default 1,000,000; three
// steps each) into a database of its own, then measures, over HTTP against
// the compiled server, a filtered page of GET /v1/sagas under each filter,
// deep pages through the cursor, GET /v1/sagas/{id}, and GET /v1/stats; and
// prints the query plan (EXPLAIN ANALYZE) of each list query and of the saga
// read, built by the server's own repository code.
//
//   bash bench/run.sh read-scale            # set-up (as scripts/test.sh), then this
//   READ_N=100000 READ_REQUESTS=200 node bench/read-scale.mjs
//
// Seeded mix: 90% COMPLETED, 6% COMPENSATED, 2% RUNNING, 1% PAUSED,
// 0.5% FAILED, 0.5% COMPENSATING over 10 definitions and 30 days, each with
// its own correlation id. History rows are not seeded (no read here uses
// them). The server runs with ROLE=api, so no worker acts on the seeded
// sagas. Progress goes to stderr; one JSON line of figures to stdout; the
// database is dropped at the end (READ_KEEP_DB=1 keeps it).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { admin, BASE_DATABASE_URL, BENCH_ADMIN_KEY, jsonClient, REDIS_URL, withClient, withDatabase } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = (k, d) => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const N = env('READ_N', 1_000_000);
const REQUESTS = env('READ_REQUESTS', 300);
const CHUNK = 100_000;
const DEFINITIONS = 10;
const log = (...a) => console.error('[read-scale]', ...a);
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

let http = null;
const call = (...args) => http.call(...args);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Times `n` sequential requests made by `next(i)` (after a few warm-up ones); checks each answers 200. */
async function measure(name, n, next) {
  for (let i = 0; i < Math.min(20, n); i++) await next(i);
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await next(i);
    lat.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  lat.sort((a, b) => a - b);
  const result = { p50: round(percentile(lat, 50)), p95: round(percentile(lat, 95)), p99: round(percentile(lat, 99)), max: round(lat[lat.length - 1]) };
  log(`${name.padEnd(44)} p50 ${String(result.p50).padStart(6)} ms  p95 ${String(result.p95).padStart(6)} ms  p99 ${String(result.p99).padStart(6)} ms`);
  return result;
}

/** The SQL the server's own repository sends for a call, captured with a stand-in data source. */
async function repositorySql(invoke) {
  const { SagaRepository } = await import(pathToFileURL(path.join(root, 'dist/src/executions/saga.repository.js')).href);
  let captured = null;
  const repo = new SagaRepository({
    query: async (sql, params) => {
      captured = { sql, params };
      return [];
    },
  });
  await invoke(repo);
  return captured;
}

async function explain(client, label, { sql, params }) {
  const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) ${sql}`, params);
  const plan = rows.map((r) => r['QUERY PLAN']);
  const indexes = [...new Set(plan.flatMap((l) => [...l.matchAll(/(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)/g)].map((m) => m[1])))];
  const seqScans = plan.filter((l) => /Seq Scan on (saga|saga_step)\b/.test(l)).length;
  console.error(`\n--- EXPLAIN ${label}\n${plan.join('\n')}`);
  return { indexes, seqScans, executionMs: Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1]) };
}

async function seed(url) {
  await withClient(url, async (client) => {
    const t0 = performance.now();
    for (let from = 1; from <= N; from += CHUNK) {
      const to = Math.min(N, from + CHUNK - 1);
      await client.query(
        `WITH x AS (
           SELECT g, random() AS r, now() - interval '30 days' * (1 - g::float8 / $3) AS ts FROM generate_series($1::int, $2::int) g
         ), s AS (
           INSERT INTO saga (id, definition_name, definition_version, status, input, correlation_id, results, error,
                             version, next_seq, created_at, updated_at, finished_at)
           SELECT gen_random_uuid(), 'bench-def-' || (g % ${DEFINITIONS}), 1,
                  CASE WHEN r < 0.90 THEN 'COMPLETED' WHEN r < 0.96 THEN 'COMPENSATED' WHEN r < 0.98 THEN 'RUNNING'
                       WHEN r < 0.99 THEN 'PAUSED' WHEN r < 0.995 THEN 'FAILED' ELSE 'COMPENSATING' END,
                  jsonb_build_object('orderId', g), 'order-' || g,
                  '{"reserve-inventory": {"ok": true}, "charge-payment": {"ok": true}, "create-shipment": {"ok": true}}'::jsonb,
                  NULL, 6, 10, ts, ts + interval '40 ms', ts + interval '40 ms'
             FROM x
           RETURNING id, created_at
         )
         INSERT INTO saga_step (saga_id, idx, name, status, attempts, started_at, finished_at, output)
         SELECT s.id, i, (ARRAY['reserve-inventory', 'charge-payment', 'create-shipment'])[i + 1], 'SUCCEEDED', 1,
                s.created_at, s.created_at + interval '10 ms', '{"ok": true}'::jsonb
           FROM s, generate_series(0, 2) i`,
        [from, to, N],
      );
      log(`seeded ${to.toLocaleString('en')} / ${N.toLocaleString('en')} sagas (${round((performance.now() - t0) / 1000, 1)} s)`);
    }
    log('VACUUM ANALYZE …');
    await client.query('VACUUM ANALYZE saga');
    await client.query('VACUUM ANALYZE saga_step');
    const { rows } = await client.query(`SELECT pg_size_pretty(pg_total_relation_size('saga')) AS saga, pg_size_pretty(pg_total_relation_size('saga_step')) AS steps`);
    log(`seeded in ${round((performance.now() - t0) / 1000, 1)} s; saga ${rows[0].saga}, saga_step ${rows[0].steps} (with indexes)`);
  });
}

async function main() {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const database = `saga_bench_${suffix}`;
  const url = withDatabase(BASE_DATABASE_URL, database);
  await admin(`CREATE DATABASE ${database}`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const baseUrl = `http://127.0.0.1:${port}`;
  http = jsonClient(baseUrl, 4);
  let out = '';
  const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js')], {
    env: { ...process.env, DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: `bench_${suffix}`, PORT: String(port), HOST: '127.0.0.1', ROLE: 'api', MIGRATE_ON_START: 'true', LOG_LEVEL: 'warn', BOOTSTRAP_ADMIN_KEY: BENCH_ADMIN_KEY, PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-4000)));
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`the server exited: ${out}`);
      if (i > 300) throw new Error(`the server did not become ready: ${out}`);
      const ready = await call('GET', '/health/ready').catch(() => null);
      if (ready?.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let d = 0; d < DEFINITIONS; d++) {
      const step = (name) => ({ name, action: { type: 'http', url: `http://127.0.0.1:9/${name}` }, compensation: { type: 'http', url: `http://127.0.0.1:9/${name}/undo` } });
      const res = await call('POST', '/v1/definitions', { name: `bench-def-${d}`, steps: [step('reserve-inventory'), step('charge-payment'), step('create-shipment')] });
      if (res.status !== 201) throw new Error(`definition: ${res.status} ${JSON.stringify(res.body)}`);
    }
    log(`server on ${baseUrl}; seeding ${N.toLocaleString('en')} sagas into ${database}`);
    await seed(url);

    const { ids, correlations, day } = await withClient(url, async (c) => {
      const sample = await c.query(`SELECT id, correlation_id FROM saga TABLESAMPLE SYSTEM (1) LIMIT 2000`);
      const mid = await c.query(`SELECT created_at FROM saga ORDER BY created_at DESC OFFSET $1 LIMIT 1`, [Math.floor(N / 2)]);
      return { ids: sample.rows.map((r) => r.id), correlations: sample.rows.map((r) => r.correlation_id), day: mid.rows[0].created_at };
    });
    const dayFrom = new Date(day.getTime() - 12 * 3600_000).toISOString();
    const dayTo = new Date(day.getTime() + 12 * 3600_000).toISOString();
    const pick = (arr, i) => arr[(i * 7919) % arr.length];

    const filters = {
      'newest page (no filter)': {},
      'status=PAUSED': { status: 'PAUSED' },
      'status=RUNNING,PAUSED (partial index)': { status: 'RUNNING,PAUSED' },
      'definition': { definition: 'bench-def-3' },
      'definition + status=FAILED': { definition: 'bench-def-3', status: 'FAILED' },
      'correlationId': null,
      'created range (one day) + status=COMPENSATED': { createdFrom: dayFrom, createdTo: dayTo, status: 'COMPENSATED' },
    };
    const qs = (o) => new URLSearchParams({ limit: '50', ...o }).toString();
    const results = {};
    log(`\nlatency, ${REQUESTS} sequential requests each (page size 50):`);
    for (const [name, filter] of Object.entries(filters)) {
      results[`list: ${name}`] = await measure(`GET /v1/sagas ${name}`, REQUESTS, (i) =>
        call('GET', `/v1/sagas?${qs(filter ?? { correlationId: pick(correlations, i) })}`),
      );
    }
    // Deep pages: follow the cursor 100 pages into status=COMPLETED (5,000 rows in), then time each next page.
    let cursor = null;
    for (let i = 0; i < 100; i++) cursor = (await call('GET', `/v1/sagas?${qs({ status: 'COMPLETED', ...(cursor ? { cursor } : {}) })}`)).body.nextCursor;
    const cursors = [];
    results['list: status=COMPLETED, next page via cursor (pages 101+)'] = await measure('GET /v1/sagas status=COMPLETED next page', REQUESTS, async () => {
      const res = await call('GET', `/v1/sagas?${qs({ status: 'COMPLETED', cursor })}`);
      cursors.push(cursor);
      cursor = res.body.nextCursor;
      return res;
    });
    results['get: /v1/sagas/{id}'] = await measure('GET /v1/sagas/{id}', Math.max(REQUESTS, 1000), (i) => call('GET', `/v1/sagas/${pick(ids, i)}`));
    const statsT0 = performance.now();
    const stats = await call('GET', '/v1/stats');
    results['stats: /v1/stats (uncached)'] = { ms: round(performance.now() - statsT0) };
    log(`GET /v1/stats (uncached): ${results['stats: /v1/stats (uncached)'].ms} ms; total ${stats.body.total}`);

    // The plans of the server's own SQL for the same requests.
    const plans = await withClient(url, async (c) => {
      const out = {};
      const list = (filter, position = null) => repositorySql((repo) => repo.list(filter, position, 51));
      out['newest page'] = await explain(c, 'newest page', await list({}));
      out['status=PAUSED'] = await explain(c, 'status=PAUSED', await list({ statuses: ['PAUSED'] }));
      out['status=RUNNING,PAUSED'] = await explain(c, 'status=RUNNING,PAUSED', await list({ statuses: ['RUNNING', 'PAUSED'] }));
      out['definition'] = await explain(c, 'definition', await list({ definition: 'bench-def-3' }));
      out['definition + status'] = await explain(c, 'definition + status=FAILED', await list({ definition: 'bench-def-3', statuses: ['FAILED'] }));
      out['correlationId'] = await explain(c, 'correlationId', await list({ correlationId: correlations[0] }));
      out['created range + status'] = await explain(c, 'created range + status', await list({ createdFrom: new Date(dayFrom), createdTo: new Date(dayTo), statuses: ['COMPENSATED'] }));
      const [createdUs, id] = Buffer.from(cursors[0], 'base64url').toString().split('.'); // the cursor's own format
      out['status=COMPLETED after cursor'] = await explain(c, 'status=COMPLETED after a cursor', await list({ statuses: ['COMPLETED'] }, { createdUs, id }));
      out['saga by id'] = await explain(c, 'saga by id (GET /v1/sagas/{id})', await repositorySql((repo) => repo.find(ids[0])));
      out['stats counts'] = await explain(c, 'stats counts', await repositorySql((repo) => repo.counts()));
      return out;
    });
    console.error('\nplans (indexes used, sequential scans of saga/saga_step, execution ms):');
    for (const [name, p] of Object.entries(plans)) console.error(`  ${name.padEnd(32)} ${p.indexes.join(', ') || '-'}  seq scans: ${p.seqScans}  ${p.executionMs} ms`);
    process.stdout.write(JSON.stringify({ bench: 'read-scale', sagas: N, requests: REQUESTS, latency_ms: results, plans }) + '\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    http.close();
    if (!process.env.READ_KEEP_DB) await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    else log(`kept database ${database}`);
  }
}

main().catch((error) => {
  console.error(`[read-scale] failed: ${error.stack ?? error}`);
  process.exit(1);
});
