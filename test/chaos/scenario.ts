import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_ADMIN_KEY } from '../support/api-key.js';
import { Fleet, RSS_MIN_LIFE_S, type Role } from './fleet.js';
import { RecordingParticipants, type Call, type Plan, type SentCallback } from './participants.js';
import { startChaosPostgres, startChaosRedis, type ChaosPostgres, type ChaosRedis } from './services.js';

/** How big a run is and which faults it injects. */
export interface Profile {
  name: string;
  sagas: number;
  /** Sagas submitted per second, steadily. */
  ratePerS: number;
  seed: number;
  reconcileIntervalMs: number;
  /** Server processes: name and role. */
  fleet: Array<[string, Role]>;
  /** Faults, by kind: how many, spread over the drive phase (kills: every `killEveryS` seconds instead, when set). */
  faults: { kill: number; freeze: number; flush: number; redisRestart: number; pgTerminate: number; pgRestart: number; sigterm: number };
  killEveryS?: [number, number];
  /** SIGSTOP longer than the steps worker's 10 s lock. */
  freezeMs: number;
  healTimeoutMs: number;
}

export const CI_PROFILE: Profile = {
  name: 'ci',
  sagas: 320,
  ratePerS: 6,
  seed: 20261123,
  reconcileIntervalMs: 1_000,
  fleet: [
    ['api-1', 'api'],
    ['worker-1', 'worker'],
    ['worker-2', 'worker'],
    ['all-1', 'all'],
  ],
  faults: { kill: 3, freeze: 1, flush: 1, redisRestart: 1, pgTerminate: 1, pgRestart: 1, sigterm: 1 },
  freezeMs: 12_000,
  healTimeoutMs: 120_000,
};

export const SOAK_PROFILE: Profile = {
  name: 'soak',
  sagas: 10_000,
  ratePerS: 40,
  seed: 7,
  reconcileIntervalMs: 5_000,
  fleet: CI_PROFILE.fleet,
  faults: { kill: 0, freeze: 2, flush: 2, redisRestart: 1, pgTerminate: 2, pgRestart: 1, sigterm: 2 },
  killEveryS: [5, 20],
  freezeMs: 12_000,
  healTimeoutMs: 300_000,
};

/** Deterministic pseudo-random numbers (mulberry32): a seed gives the same plans and timeline. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STEPS = 4;
/** Step s2 has no compensation: it must be skipped when compensating. */
const WITHOUT_COMPENSATION = 2;
/**
 * The saga with a parallel group (SPEC §8): s0, then the group g of two
 * branches, [s1, s2] and [s3], then s4. Where each step sits: its stage
 * (top-level position) and branch.
 */
const GROUP_STEPS = 5;
const GROUP_PLACE: Array<{ stage: number; branch: number | null }> = [
  { stage: 0, branch: null },
  { stage: 1, branch: 0 },
  { stage: 1, branch: 0 },
  { stage: 1, branch: 1 },
  { stage: 2, branch: null },
];
/** A quarter of the sagas run the definition with the group. */
const GROUP_SHARE = 0.25;
/**
 * A fifth run the line whose step s1 is a callback step (SPEC §10): its
 * participant acknowledges, then calls back during the faults.
 */
const CALLBACK_SHARE = 0.2;
const CALLBACK_STEP = 1;
type Shape = 'line' | 'group' | 'callback';
const TERMINAL = ['COMPLETED', 'COMPENSATED', 'FAILED', 'PAUSED'];

type FaultKind = 'kill' | 'freeze' | 'flush' | 'redisRestart' | 'pgTerminate' | 'pgRestart' | 'sigterm';
interface FaultRecord {
  kind: FaultKind;
  at: number;
  detail: string;
}

export interface Report {
  seed: number;
  accepted: number;
  checks: Record<string, number>;
  /** Counted and printed, not failed. */
  duplicateDeliveries: number;
  faults: FaultRecord[];
  skipped: string[];
  figures: Record<string, number | string>;
  rss: Array<{ name: string; incarnation: number; livedS: number; warmMiB: number; endMiB: number; peakMiB: number }>;
  examples: Record<string, string[]>;
}

/**
 * One chaos run: private Postgres and Redis, a fleet of server processes,
 * recording participants, a steady arrival of sagas with a mix of plans, a
 * seeded timeline of faults, a heal phase, then the checks.
 */
export async function runChaos(profile: Profile, log: (line: string) => void): Promise<Report> {
  const t0 = Date.now();
  const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  const say = (line: string) => log(`[chaos ${elapsed()}s] ${line}`);
  const random = rng(profile.seed);
  say(`profile ${profile.name}: ${profile.sagas} sagas at ${profile.ratePerS}/s, seed ${profile.seed}`);

  const postgres: ChaosPostgres = await startChaosPostgres(say);
  const redis: ChaosRedis = await startChaosRedis();
  let apiUrls: () => string[] = () => [];
  const participants = await new RecordingParticipants(20, () => {
    const urls = apiUrls();
    return urls.length ? urls[Math.floor(Math.random() * urls.length)] : null;
  }).start();
  const runId = randomBytes(4).toString('hex');
  const fleet = new Fleet(
    profile.fleet,
    {
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `chaos_${runId}`,
      RECONCILE_INTERVAL_MS: String(profile.reconcileIntervalMs),
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: '10',
    },
    say,
  );
  apiUrls = () => fleet.apiUrls();
  const skipped: string[] = [];
  if (postgres.restartUnavailable) skipped.push(`pgRestart: ${postgres.restartUnavailable}`);
  const faults: FaultRecord[] = [];
  const statusCounts = new Map<number | string, number>();
  const api500: string[] = [];
  const outageAccepted: string[] = [];
  const drains: Array<{ name: string; code: number | null; ms: number }> = [];
  let rssTimer: NodeJS.Timeout | null = null;

  try {
    await fleet.startAll();
    rssTimer = setInterval(() => fleet.sampleRss(), 5_000);
    say(`fleet up: ${profile.fleet.map(([n, r]) => `${n} (${r})`).join(', ')}; participants on ${participants.url}`);

    const pick = () => {
      const urls = fleet.apiUrls();
      return urls.length ? urls[Math.floor(Math.random() * urls.length)] : null;
    };
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const base = pick();
      if (!base) throw new Error('no API process is up');
      const res = await fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);
      if (res.status >= 500 && res.status !== 503) api500.push(`${res.status} POST ${path}: ${text.slice(0, 200)}`);
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const stepSpec = (version: number, i: number) => ({
      name: `s${i}`,
      action: { type: 'http', url: `${participants.url}/v${version}/s${i}/action` },
      ...(i === WITHOUT_COMPENSATION ? {} : { compensation: { type: 'http', url: `${participants.url}/v${version}/s${i}/compensation` } }),
      retry: { maxAttempts: 4, backoff: 'fixed', initialDelayMs: 50, maxDelayMs: 50 },
      timeoutMs: 800,
    });
    const definition = (version: number) => ({ name: 'chaos', steps: Array.from({ length: STEPS }, (_, i) => stepSpec(version, i)) });
    const groupDefinition = {
      name: 'chaos-group',
      steps: [stepSpec(1, 0), { name: 'g', parallel: [[stepSpec(1, 1), stepSpec(1, 2)], [stepSpec(1, 3)]] }, stepSpec(1, 4)],
    };
    // The line, with s1 completing by callback: its timeout runs from dispatch to the callback.
    const callbackDefinition = {
      name: 'chaos-callback',
      steps: Array.from({ length: STEPS }, (_, i) => {
        const spec = stepSpec(1, i);
        return i === CALLBACK_STEP ? { ...spec, action: { ...spec.action, completion: 'callback' }, timeoutMs: 4_000 } : spec;
      }),
    };
    for (const body of [definition(1), groupDefinition, callbackDefinition]) {
      const registered = await post('/v1/definitions', body);
      if (registered.status !== 201) throw new Error(`definition: ${registered.status} ${JSON.stringify(registered.body)}`);
    }

    // ---------- plans and the fault timeline, both from the seed ----------
    const shapes: Shape[] = Array.from({ length: profile.sagas }, () => {
      const r = random();
      return r < GROUP_SHARE ? 'group' : r < GROUP_SHARE + CALLBACK_SHARE ? 'callback' : 'line';
    });
    const plans: Plan[] = shapes.map((shape) => {
      const r = random();
      const at = Math.floor(random() * (shape === 'group' ? GROUP_STEPS : STEPS));
      if (r < 0.65) return { kind: 'ok' };
      if (r < 0.75) return { kind: 'slow', at };
      if (r < 0.9) return { kind: 'fail', at };
      if (r < 0.95) return { kind: 'hang', at };
      return { kind: 'poison', at };
    });
    const driveMs = (profile.sagas / profile.ratePerS) * 1000;
    const timeline: Array<{ at: number; kind: FaultKind }> = [];
    const spread = (kind: FaultKind, n: number) => {
      for (let i = 0; i < n; i++) timeline.push({ at: driveMs * ((i + 0.2 + random() * 0.6) / n) * 0.9, kind });
    };
    for (const [kind, n] of Object.entries(profile.faults) as Array<[FaultKind, number]>) spread(kind, n);
    if (profile.killEveryS) {
      const [lo, hi] = profile.killEveryS;
      for (let at = lo * 1000; at < driveMs; at += (lo + random() * (hi - lo)) * 1000) timeline.push({ at, kind: 'kill' });
    }
    timeline.sort((a, b) => a.at - b.at);
    say(`timeline: ${timeline.map((f) => `${f.kind}@${(f.at / 1000).toFixed(1)}s`).join(' ')}`);

    // ---------- drive: a steady arrival of sagas ----------
    const accepted = new Map<string, { index: number; plan: Plan; shape: Shape }>();
    const driveStart = Date.now();
    const submit = async (index: number) => {
      const key = `chaos-${runId}-${index}`;
      const deadline = Date.now() + 180_000;
      for (;;) {
        try {
          const definitionName = shapes[index] === 'group' ? 'chaos-group' : shapes[index] === 'callback' ? 'chaos-callback' : 'chaos';
          const res = await post('/v1/sagas', { definition: definitionName, input: { index, plan: plans[index] } }, { 'Idempotency-Key': key });
          if (res.status === 202) {
            accepted.set(res.body.id, { index, plan: plans[index], shape: shapes[index] });
            return;
          }
          if (res.status !== 503) throw new Error(`trigger ${index}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
        } catch (error) {
          if ((error as Error).message.startsWith('trigger')) throw error;
          // connection refused or reset, or a timeout: the process died; try another
        }
        if (Date.now() > deadline) throw new Error(`trigger ${index} was not accepted within 180 s`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    const submissions: Array<Promise<void>> = [];
    const drive = (async () => {
      for (let i = 0; i < profile.sagas; i++) {
        const due = driveStart + (i * 1000) / profile.ratePerS;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        submissions.push(submit(i));
        if (i === Math.floor(profile.sagas * 0.4)) {
          // A new version while sagas of the first run on: they stay on version 1.
          submissions.push(post('/v1/definitions', definition(2)).then((r) => say(`definition version 2 registered: HTTP ${r.status}`)));
        }
        if (i > 0 && i % Math.max(1, Math.floor(profile.sagas / 10)) === 0) say(`submitted ${i}/${profile.sagas}, accepted ${accepted.size}`);
      }
    })();

    // ---------- faults ----------
    const names = (role?: Role) => profile.fleet.filter(([, r]) => !role || r === role).map(([n]) => n);
    const choose = <T>(items: T[]) => items[Math.floor(random() * items.length)];
    const injector = (async () => {
      for (const fault of timeline) {
        const wait = driveStart + fault.at - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const record = (detail: string) => {
          faults.push({ kind: fault.kind, at: Date.now(), detail });
          say(`fault ${fault.kind}: ${detail}`);
        };
        switch (fault.kind) {
          case 'kill': {
            const name = choose(names());
            const pauseMs = 500 + Math.floor(random() * 2500);
            record(`SIGKILL ${name}, restart after ${pauseMs} ms`);
            await fleet.kill(name);
            await new Promise((r) => setTimeout(r, pauseMs));
            await fleet.start(name);
            break;
          }
          case 'freeze': {
            const name = choose(names('worker'));
            record(`SIGSTOP ${name} for ${profile.freezeMs} ms (the steps lock is 10 s)`);
            fleet.freeze(name);
            await new Promise((r) => setTimeout(r, profile.freezeMs));
            fleet.thaw(name);
            break;
          }
          case 'flush':
            record('Redis FLUSHALL');
            await redis.flushAll();
            break;
          case 'redisRestart':
            record('Redis restarted without persistence');
            await redis.restart();
            break;
          case 'pgTerminate':
            record(`pg_terminate_backend: ${await postgres.terminateConnections()} connections ended`);
            break;
          case 'pgRestart': {
            if (postgres.restartUnavailable) {
              say(`fault pgRestart skipped: ${postgres.restartUnavailable}`);
              break;
            }
            record('Postgres stopped; the API is probed while it is down; then started');
            await postgres.stop();
            const downUntil = Date.now() + 3_000;
            let probes = 0;
            while (Date.now() < downUntil) {
              probes++;
              const key = `chaos-${runId}-outage-${probes}`;
              try {
                const res = await post('/v1/sagas', { definition: 'chaos', input: { index: -probes, plan: { kind: 'ok' } } }, { 'Idempotency-Key': key });
                if (res.status === 202) outageAccepted.push(res.body.id);
                else if (res.status !== 503) api500.push(`during the Postgres outage: POST /v1/sagas answered ${res.status}`);
                const base = pick();
                if (base) {
                  const get = await fetch(`${base}/v1/sagas/00000000-0000-4000-8000-000000000000`, {
                    headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
                    signal: AbortSignal.timeout(5_000),
                  });
                  if (get.status !== 503) api500.push(`during the Postgres outage: GET /v1/sagas/{id} answered ${get.status}`);
                  if (!(get.headers.get('content-type') ?? '').includes('application/problem+json')) api500.push('during the Postgres outage: an answer that is not problem+json');
                }
              } catch {
                // a process that is restarting
              }
              await new Promise((r) => setTimeout(r, 200));
            }
            await postgres.start();
            say(`Postgres back after ${probes} probes`);
            break;
          }
          case 'sigterm': {
            // The worker up the longest, so it is likely to have attempts in flight to drain.
            const name = names('worker').sort((a, b) => fleet.get(a).startedAt - fleet.get(b).startedAt)[0];
            record(`SIGTERM ${name} (drain), then restart`);
            const { code, ms } = await fleet.terminate(name);
            drains.push({ name, code, ms });
            say(`${name} exited ${code} after ${ms} ms`);
            await fleet.start(name);
            break;
          }
        }
      }
    })();

    await drive;
    await injector;
    await Promise.all(submissions);
    const driveEnd = Date.now();
    say(`drive done: ${accepted.size} accepted (+${outageAccepted.length} during the Postgres outage); healing`);

    // ---------- heal: no faults; everything up ----------
    for (const m of fleet.members) {
      if (m.frozen) fleet.thaw(m.name);
      if (!m.server) await fleet.start(m.name);
    }
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const ids = [...accepted.keys(), ...outageAccepted];
    try {
      const healDeadline = Date.now() + profile.healTimeoutMs;
      for (;;) {
        const { rows } = await db.query(`SELECT count(*)::int AS n FROM saga WHERE id = ANY($1::uuid[]) AND status <> ALL($2)`, [ids, TERMINAL]);
        if (rows[0].n === 0 || Date.now() > healDeadline) break;
        say(`heal: ${rows[0].n} sagas not terminal yet`);
        await new Promise((r) => setTimeout(r, 5_000));
      }
      // Late duplicate deliveries still in flight land before the calls are checked, and late callbacks get their answers.
      await new Promise((r) => setTimeout(r, 2_000));
      await participants.settled();
      fleet.sampleRss();
      return await check({ db, profile, accepted, outageAccepted, calls: participants.calls, callbacks: participants.callbacks, faults, drains, api500, statusCounts, skipped, fleet, driveStart, driveEnd, say });
    } finally {
      await db.end();
    }
  } finally {
    if (rssTimer) clearInterval(rssTimer);
    await fleet.stopAll();
    await participants.stop();
    await redis.close();
    await postgres.close();
  }
}

interface CheckInput {
  db: pg.Client;
  profile: Profile;
  accepted: Map<string, { index: number; plan: Plan; shape: Shape }>;
  outageAccepted: string[];
  calls: Call[];
  callbacks: SentCallback[];
  faults: FaultRecord[];
  drains: Array<{ name: string; code: number | null; ms: number }>;
  api500: string[];
  statusCounts: Map<number | string, number>;
  skipped: string[];
  fleet: Fleet;
  driveStart: number;
  driveEnd: number;
  say: (line: string) => void;
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function check(input: CheckInput): Promise<Report> {
  const { db, accepted, outageAccepted, calls, faults, drains } = input;
  const ids = [...accepted.keys(), ...outageAccepted];
  const { rows: sagas } = (await db.query(
    `SELECT id, status, run, definition_version AS version, created_at AS "createdAt", finished_at AS "finishedAt" FROM saga WHERE id = ANY($1::uuid[])`,
    [ids],
  )) as { rows: Array<{ id: string; status: string; run: number; version: number; createdAt: Date; finishedAt: Date | null }> };
  const byId = new Map(sagas.map((s) => [s.id, s]));
  const { rows: gaps } = await db.query(
    `SELECT saga_id FROM saga_event WHERE saga_id = ANY($1::uuid[]) GROUP BY saga_id HAVING min(seq) <> 1 OR max(seq) <> count(*)`,
    [ids],
  );
  // A transition applied twice (two instances, or the reconciler and a worker, acting on one state) records its event twice.
  const { rows: doubled } = await db.query(
    `SELECT saga_id, run, type, step, phase, attempt, count(*)::int AS n FROM saga_event
      WHERE saga_id = ANY($1::uuid[]) AND type IN ('StepStarted', 'StepSucceeded', 'StepFailed', 'CompensationStarted', 'CompensationSucceeded',
                                                   'CompensationFailed', 'SagaCompleted', 'SagaCompensated', 'SagaCompensating')
      GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1`,
    [ids],
  );
  const examples: Record<string, string[]> = {};
  const count = new Map<string, number>();
  const fail = (check: string, example: string) => {
    count.set(check, (count.get(check) ?? 0) + 1);
    const list = (examples[check] ??= []);
    if (list.length < 5) list.push(example);
  };

  for (const id of ids) {
    const saga = byId.get(id);
    if (!saga) fail('lost', id);
    else if (!TERMINAL.includes(saga.status) || saga.status === 'PAUSED' || saga.status === 'FAILED') fail('stuck', `${id} ${saga.status}`);
  }
  for (const g of gaps) fail('history seq with gaps', g.saga_id);
  for (const d of doubled) fail('transition applied twice', `${d.saga_id} ${d.type} ${d.step ?? ''} #${d.attempt ?? ''} ×${d.n}`);

  // Calls per saga, then per (step, phase).
  const callsBySaga = new Map<string, Call[]>();
  for (const c of calls) {
    if (!callsBySaga.has(c.sagaId)) callsBySaga.set(c.sagaId, []);
    callsBySaga.get(c.sagaId)!.push(c);
  }
  let duplicateDeliveries = 0;
  for (const id of ids) {
    const saga = byId.get(id);
    if (!saga) continue;
    const plan = accepted.get(id)?.plan ?? { kind: 'ok' as const };
    const own = (callsBySaga.get(id) ?? []).sort((a, b) => a.at - b.at);
    const succeeds = plan.kind === 'ok' || plan.kind === 'slow';
    const expected = succeeds ? 'COMPLETED' : 'COMPENSATED';
    if (TERMINAL.includes(saga.status) && saga.status !== expected) fail('wrong outcome', `${id} plan ${JSON.stringify(plan)} ended ${saga.status}`);
    const seen = new Map<string, number>();
    for (const c of own) {
      if (c.urlVersion !== saga.version) fail('called with another definition version', `${id} is on v${saga.version}, called ${c.step} of v${c.urlVersion}`);
      const expectedKey = `${id}:${c.run}:${c.step}:${c.phase}`;
      if (c.key !== expectedKey) fail('action under two keys', `${id} ${c.step} ${c.phase}: key ${c.key}`);
      const attemptKey = `${c.run}:${c.step}:${c.phase}:${c.attempt}`;
      seen.set(attemptKey, (seen.get(attemptKey) ?? 0) + 1);
    }
    for (const n of seen.values()) duplicateDeliveries += n - 1;
    const actions = new Map<string, Call[]>();
    const compensations = new Map<string, Call[]>();
    for (const c of own) {
      const map = c.phase === 'action' ? actions : compensations;
      if (!map.has(c.step)) map.set(c.step, []);
      map.get(c.step)!.push(c);
    }
    // A callback saga is the line: its checks are the line's.
    const shape = accepted.get(id)?.shape === 'group' ? 'group' : 'line';
    const firstCompensation = (step: number) => compensations.get(`s${step}`)?.[0].at ?? Infinity;
    const lastCompensation = (step: number) => Math.max(-Infinity, ...(compensations.get(`s${step}`) ?? []).map((c) => c.at));
    // Compensations in reverse order (by each step's first compensation call), only of steps that started.
    const compensated = [...compensations.entries()].sort((a, b) => a[1][0].at - b[1][0].at).map(([step]) => Number(step.slice(1)));
    if (shape === 'line') {
      for (let i = 1; i < compensated.length; i++) {
        if (compensated[i] >= compensated[i - 1]) fail('compensations out of reverse order', `${id}: ${compensated.map((s) => `s${s}`).join(' → ')}`);
      }
    } else {
      // SPEC §8, per branch: reverse order within a branch, and no step before the group (or the group
      // before the step after it) compensated while a step of a later stage is still being compensated.
      for (const a of compensated) {
        for (const b of compensated) {
          const pa = GROUP_PLACE[a];
          const pb = GROUP_PLACE[b];
          if (pa.stage === pb.stage && pa.branch === pb.branch && a < b && firstCompensation(a) < firstCompensation(b)) {
            fail('compensations out of reverse order', `${id} (branch ${pa.branch}): s${a} before s${b}`);
          }
          if (pa.stage < pb.stage && firstCompensation(a) < lastCompensation(b)) {
            fail('a step before the group compensated while the group was not', `${id}: s${a} began before s${b}'s compensation ended`);
          }
        }
      }
    }
    for (const [step, comp] of compensations) {
      const acts = actions.get(step);
      if (!acts) fail('compensation of a step that never started', `${id} ${step}`);
      else if (Math.max(...acts.map((a) => a.at)) > comp[0].at) fail('action call after its compensation began', `${id} ${step}`);
      if (Number(step.slice(1)) === WITHOUT_COMPENSATION) fail('compensation of a step without one', `${id} ${step}`);
    }
    if (!succeeds) {
      if (shape === 'line') {
        // Every step before the failed one that has a compensation was compensated.
        for (let j = 0; j < plan.at; j++) {
          if (j !== WITHOUT_COMPENSATION && saga.status === 'COMPENSATED' && !compensations.has(`s${j}`)) fail('a completed step not compensated', `${id} s${j}`);
        }
        for (const s of compensated) if (s > plan.at) fail('compensation of a step after the failed one', `${id} s${s}`);
      } else {
        // Which steps of the group succeeded depends on timing: the stored step statuses say, checked for every saga below.
        for (const s of compensated) if (GROUP_PLACE[s].stage > GROUP_PLACE[plan.at].stage) fail('compensation of a step after the failed one', `${id} s${s}`);
      }
    } else if (compensated.length > 0) {
      fail('compensation in a saga that succeeded', `${id}`);
    }
  }
  // A COMPENSATED saga has no step left that succeeded (or timed out) and has a compensation not run.
  const { rows: leftOver } = await db.query(
    `SELECT t.saga_id, t.name, t.status FROM saga s JOIN saga_step t ON t.saga_id = s.id
      WHERE s.id = ANY($1::uuid[]) AND s.status = 'COMPENSATED' AND t.name <> $2
        AND (t.status = 'SUCCEEDED' OR (t.status = 'FAILED' AND t.last_attempt_timed_out))`,
    [ids, `s${WITHOUT_COMPENSATION}`],
  );
  for (const row of leftOver) fail('a completed step not compensated', `${row.saga_id} ${row.name} ${row.status}`);
  for (const d of drains) {
    if (d.code !== 0 || d.ms > 15_000) fail('SIGTERM drain not clean', `${d.name} exited ${d.code} after ${d.ms} ms`);
  }
  // SPEC §10: a callback the server took (202, or 200 for a repeat) ended its attempt with its answer; one it refused (409) did not.
  const { rows: callbackOutcomes } = (await db.query(
    `SELECT saga_id AS "sagaId", attempt, type FROM saga_event
      WHERE saga_id = ANY($1::uuid[]) AND step = $2 AND phase = 'action' AND type IN ('StepSucceeded', 'StepFailed')`,
    [ids, `s${CALLBACK_STEP}`],
  )) as { rows: Array<{ sagaId: string; attempt: number; type: string }> };
  const outcomeOf = new Map(callbackOutcomes.map((r) => [`${r.sagaId}:${r.attempt}`, r.type]));
  for (const cb of input.callbacks) {
    const ended = outcomeOf.get(`${cb.sagaId}:${cb.attempt}`);
    const answerType = cb.status === 'succeeded' ? 'StepSucceeded' : 'StepFailed';
    if (cb.answer === 0) fail('a callback never answered', `${cb.sagaId} #${cb.attempt}`);
    else if (cb.answer === 404) fail('a callback token unknown to the server', `${cb.sagaId} #${cb.attempt}`);
    else if ((cb.answer === 202 || cb.answer === 200) && ended !== answerType) fail('a callback taken that did not end its attempt', `${cb.sagaId} #${cb.attempt} ${cb.status}: ${ended ?? 'no outcome'}`);
    else if (cb.answer === 409 && cb.status === 'succeeded' && ended === 'StepSucceeded') fail('a callback refused whose answer ended its attempt', `${cb.sagaId} #${cb.attempt}`);
  }
  for (const line of input.api500) fail('API answered 500 (or not 503 while Postgres was down)', line);

  // ---------- figures ----------
  const done = sagas.filter((s) => s.finishedAt);
  const latencies = done.filter((s) => accepted.get(s.id)?.plan.kind === 'ok').map((s) => s.finishedAt!.getTime() - s.createdAt.getTime());
  const firstCreated = Math.min(...done.map((s) => s.createdAt.getTime()));
  const lastFinished = Math.max(...done.map((s) => s.finishedAt!.getTime()));
  // Re-dispatch after a fault, two ways. Orphans: an attempt called before a kill or freeze and called again
  // after it (its worker died or froze after the call, so it ran again): fault → second call. Straddlers: for
  // every saga not finished at a fault, fault → its next call; the maximum bounds the wait of any saga.
  const orphanDelays = (kinds: FaultKind[]) => {
    const delays: number[] = [];
    for (const f of faults.filter((x) => kinds.includes(x.kind))) {
      for (const own of callsBySaga.values()) {
        const byAttempt = new Map<string, Call[]>();
        for (const c of own) {
          const key = `${c.run}:${c.step}:${c.phase}:${c.attempt}`;
          if (!byAttempt.has(key)) byAttempt.set(key, []);
          byAttempt.get(key)!.push(c);
        }
        for (const group of byAttempt.values()) {
          const first = group[0];
          const again = group.find((c) => c.at > f.at);
          if (first.at <= f.at && again) delays.push(again.at - f.at);
        }
      }
    }
    return delays;
  };
  const straddlers = (kinds: FaultKind[]) => {
    const delays: number[] = [];
    for (const f of faults.filter((x) => kinds.includes(x.kind))) {
      for (const own of callsBySaga.values()) {
        const sagaDone = byId.get(own[0].sagaId)?.finishedAt?.getTime() ?? Infinity;
        const next = own.find((c) => c.at > f.at);
        if (own[0].at <= f.at && next && sagaDone > f.at) delays.push(next.at - f.at);
      }
    }
    return delays;
  };
  const killOrphans = orphanDelays(['kill', 'freeze', 'sigterm']);
  const killKinds: FaultKind[] = ['kill', 'freeze'];
  const flushKinds: FaultKind[] = ['flush', 'redisRestart'];
  const rss = input.fleet.rssReports();
  const figures: Record<string, number | string> = {
    'sagas accepted': ids.length,
    'of them with a parallel group: completed / compensated': (() => {
      const grouped = sagas.filter((s) => accepted.get(s.id)?.shape === 'group');
      return `${grouped.filter((s) => s.status === 'COMPLETED').length} / ${grouped.filter((s) => s.status === 'COMPENSATED').length}`;
    })(),
    'sagas/s (first created → last finished)': Math.round((done.length * 10_000) / (lastFinished - firstCreated)) / 10,
    'saga latency p50 ms (plan ok)': percentile(latencies, 50),
    'saga latency p99 ms (plan ok)': percentile(latencies, 99),
    'orphaned attempts run again after a kill/freeze/SIGTERM': killOrphans.length,
    'orphan re-dispatch after a kill/freeze/SIGTERM, p99 ms': percentile(killOrphans, 99),
    'next call of any unfinished saga after a kill/freeze, max ms': Math.max(0, ...straddlers(killKinds)),
    'next call of any unfinished saga after a flush/Redis restart, p99 / max ms': `${percentile(straddlers(flushKinds), 99)} / ${Math.max(0, ...straddlers(flushKinds))}`,
    'of them with a callback step: completed / compensated': (() => {
      const withCallback = sagas.filter((s) => accepted.get(s.id)?.shape === 'callback');
      return `${withCallback.filter((s) => s.status === 'COMPLETED').length} / ${withCallback.filter((s) => s.status === 'COMPENSATED').length}`;
    })(),
    'callbacks posted: taken (202 / 200) / refused (409)': `${input.callbacks.filter((c) => c.answer === 202).length} / ${input.callbacks.filter((c) => c.answer === 200).length} / ${input.callbacks.filter((c) => c.answer === 409).length}`,
    'participant calls': calls.length,
    'API answers by status': [...input.statusCounts.entries()].map(([s, n]) => `${s}:${n}`).join(' '),
  };
  const checks: Record<string, number> = {};
  for (const name of [
    'lost',
    'stuck',
    'wrong outcome',
    'compensations out of reverse order',
    'a step before the group compensated while the group was not',
    'compensation of a step that never started',
    'action under two keys',
    'action call after its compensation began',
    'history seq with gaps',
    'transition applied twice',
    'called with another definition version',
    'a completed step not compensated',
    'compensation of a step after the failed one',
    'compensation of a step without one',
    'compensation in a saga that succeeded',
    'SIGTERM drain not clean',
    'API answered 500 (or not 503 while Postgres was down)',
    'a callback never answered',
    'a callback token unknown to the server',
    'a callback taken that did not end its attempt',
    'a callback refused whose answer ended its attempt',
  ]) {
    checks[name] = count.get(name) ?? 0;
  }
  for (const [name, n] of count) if (!(name in checks)) checks[name] = n;

  const report: Report = { seed: input.profile.seed, accepted: ids.length, checks, duplicateDeliveries, faults, skipped: input.skipped, figures, rss, examples };
  printReport(report, input.say, input.profile);
  return report;
}

export function printReport(report: Report, say: (line: string) => void, profile: Profile): void {
  const lines = ['', `| check (profile ${profile.name}, seed ${report.seed}) | count |`, '| --- | --- |'];
  for (const [name, n] of Object.entries(report.checks)) lines.push(`| ${name} | ${n} |`);
  lines.push(`| duplicate deliveries of one attempt (counted, not failed) | ${report.duplicateDeliveries} |`);
  lines.push('', '| figure | value |', '| --- | --- |');
  for (const [name, v] of Object.entries(report.figures)) lines.push(`| ${name} | ${v} |`);
  lines.push('', `faults: ${report.faults.map((f) => f.kind).join(', ')}`);
  for (const s of report.skipped) lines.push(`skipped: ${s}`);
  const long = report.rss.filter((r) => r.livedS >= RSS_MIN_LIFE_S);
  lines.push('', '| process (incarnation) | lived s | RSS warm MiB | RSS end MiB | peak MiB | growth |', '| --- | --- | --- | --- | --- | --- |');
  for (const r of report.rss) {
    const growth = r.livedS >= RSS_MIN_LIFE_S ? `${Math.round(((r.endMiB - r.warmMiB) * 100) / r.warmMiB)}%` : '(short)';
    lines.push(`| ${r.name} (${r.incarnation}) | ${r.livedS} | ${r.warmMiB} | ${r.endMiB} | ${r.peakMiB} | ${growth} |`);
  }
  if (long.length === 0) lines.push('(no incarnation lived long enough for a growth figure)');
  for (const [name, list] of Object.entries(report.examples)) lines.push(`examples of "${name}": ${list.join('; ')}`);
  say(lines.join('\n'));
}
