#!/usr/bin/env node
// Where the machine's CPU goes per saga: the server, Postgres, Redis, the
// participant and this load generator, from /proc (user + system time),
// during one throughput phase of the bench's workload (50 in flight,
// POST /v1/sagas?waitMs=). The peers' targets are ratios of throughput on a
// saturated machine, so this is the budget they are shared out of.
//
//   bash bench/run.sh cpu-budget                      # 3,000 happy sagas, all-in-one, HTTP participant
//   bash bench/run.sh cpu-budget --n=2000 --variant=fail --mode=split --participants=queue
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startStack } from './stack.mjs';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const N = Number(args.get('n') ?? 3000);
const C = Number(args.get('concurrency') ?? 50);
const VARIANT = args.get('variant') ?? 'happy';
const MODE = args.get('mode') ?? 'all';
const KIND = args.get('participants') ?? 'http';
const TICKS = 100;
const log = (...a) => console.error('[cpu-budget]', ...a);

/** CPU seconds (user + system) of one process. */
const cpuOf = (pid) => {
  const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
};
/** CPU seconds per command name over every process (Postgres backends and helpers summed as "postgres"). */
const cpuByCommand = () => {
  const out = {};
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const raw = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const key = comm.startsWith('postgres') ? 'postgres' : comm;
      out[key] = (out[key] ?? 0) + cpuOf(d);
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
};
/** Busy and total jiffies of the whole machine. */
const machine = () => {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = v[3] + v[4];
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
};

const { http, procs, close } = await startStack(MODE, KIND);
try {
  const run = async (n) => {
    let started = 0;
    const worker = async () => {
      while (started < n) {
        started++;
        const res = await http.call('POST', '/v1/sagas?waitMs=30000', { definition: 'bench-order', input: { variant: VARIANT } });
        const want = VARIANT === 'happy' ? 'COMPLETED' : 'COMPENSATED';
        if (res.status !== 202 || res.body.status !== want) throw new Error(`expected ${want}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: C }, worker));
  };
  log(`warm-up (1,000 sagas), then ${N} ${VARIANT} sagas, ${C} in flight, ${MODE}/${KIND}`);
  await run(1000);
  const ours = procs.map((p) => [p.name, p.child.pid]);
  const before = { procs: ours.map(([, pid]) => cpuOf(pid)), commands: cpuByCommand(), machine: machine(), self: process.cpuUsage() };
  const t0 = performance.now();
  await run(N);
  const seconds = (performance.now() - t0) / 1000;
  const after = { procs: ours.map(([, pid]) => cpuOf(pid)), commands: cpuByCommand(), machine: machine(), self: process.cpuUsage(before.self) };
  const perSaga = (s) => Math.round((s * 1000 * 100) / N) / 100;
  const rows = [
    ...ours.map(([name], i) => [name, perSaga(after.procs[i] - before.procs[i])]),
    ['postgres (all its processes)', perSaga((after.commands.postgres ?? 0) - (before.commands.postgres ?? 0))],
    ['redis-server', perSaga((after.commands['redis-server'] ?? 0) - (before.commands['redis-server'] ?? 0))],
    ['load generator (this process)', perSaga((after.self.user + after.self.system) / 1e6)],
  ];
  const busyShare = (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
  const machineMs = perSaga(((after.machine.busy - before.machine.busy) / TICKS));
  console.log(`${VARIANT}: ${Math.round((N / seconds) * 10) / 10} sagas/s; machine ${Math.round(busyShare * 100)}% busy, ${machineMs} ms of CPU per saga`);
  console.log('| process | CPU ms per saga |\n| --- | --- |');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms} |`);
} finally {
  await close();
}
