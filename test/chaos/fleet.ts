import { readFileSync } from 'node:fs';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

export type Role = 'api' | 'worker' | 'all';

export interface Member {
  name: string;
  role: Role;
  server: ServerProcess | null;
  /** SIGSTOPped: alive but frozen. */
  frozen: boolean;
  incarnation: number;
  /** RSS samples of the current incarnation. */
  rss: Array<{ at: number; mib: number }>;
  startedAt: number;
}

export interface RssReport {
  name: string;
  incarnation: number;
  livedS: number;
  /** RSS once warmed up: the first sample 30 s or more after the start (the first sample if it lived less). */
  warmMiB: number;
  endMiB: number;
  peakMiB: number;
}

/** Incarnations that lived at least this long count for the growth check. */
export const RSS_MIN_LIFE_S = 90;

function rssReport(member: Member): RssReport | null {
  if (member.rss.length === 0) return null;
  const warm = member.rss.find((r) => r.at - member.startedAt >= 30_000) ?? member.rss[0];
  return {
    name: member.name,
    incarnation: member.incarnation,
    livedS: Math.round((Date.now() - member.startedAt) / 1000),
    warmMiB: warm.mib,
    endMiB: member.rss[member.rss.length - 1].mib,
    peakMiB: Math.max(...member.rss.map((r) => r.mib)),
  };
}

/** The server processes of one deployment: several roles against one Postgres and one Redis. */
export class Fleet {
  readonly members: Member[];
  /** Every incarnation that ended, for the RSS table. */
  readonly ended: RssReport[] = [];

  constructor(
    roles: Array<[string, Role]>,
    private readonly env: Record<string, string>,
    private readonly log: (line: string) => void,
  ) {
    this.members = roles.map(([name, role]) => ({ name, role, server: null, frozen: false, incarnation: 0, rss: [], startedAt: 0 }));
  }

  get(name: string): Member {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new Error(`no member ${name}`);
    return member;
  }

  /** Base URLs of the members that serve the API and are neither down nor frozen. */
  apiUrls(): string[] {
    return this.members.filter((m) => m.role !== 'worker' && m.server && !m.frozen).map((m) => m.server!.baseUrl);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.start(m.name)));
  }

  async start(name: string): Promise<void> {
    const member = this.get(name);
    // A start may coincide with a Postgres or Redis outage: try again for a while.
    for (let attempt = 1; ; attempt++) {
      try {
        member.server = await startServerProcess({ ...this.env, ROLE: member.role }, 30_000);
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
        this.log(`${name}: start failed (${(error as Error).message.split('\n')[0].slice(0, 120)}); retrying`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    member.incarnation++;
    member.frozen = false;
    member.startedAt = Date.now();
    member.rss = [];
    this.sampleRss();
  }

  /** SIGKILL; the process is gone at once. */
  async kill(name: string): Promise<void> {
    const member = this.get(name);
    if (!member.server) return;
    this.retire(member);
    if (member.frozen) member.server.child.kill('SIGCONT');
    await member.server.stop('SIGKILL');
    member.server = null;
    member.frozen = false;
  }

  /** SIGTERM: the process drains and exits by itself; resolves with its exit code and how long it took. */
  async terminate(name: string): Promise<{ code: number | null; ms: number }> {
    const member = this.get(name);
    if (!member.server) return { code: null, ms: 0 };
    this.retire(member);
    const t0 = Date.now();
    const code = await member.server.stop('SIGTERM');
    member.server = null;
    return { code, ms: Date.now() - t0 };
  }

  freeze(name: string): void {
    const member = this.get(name);
    member.server?.child.kill('SIGSTOP');
    member.frozen = true;
  }

  thaw(name: string): void {
    const member = this.get(name);
    member.server?.child.kill('SIGCONT');
    member.frozen = false;
  }

  sampleRss(): void {
    for (const m of this.members) {
      const pid = m.server?.child.pid;
      if (!pid || m.frozen) continue;
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
        if (kb) m.rss.push({ at: Date.now(), mib: Math.round(kb / 1024) });
      } catch {
        // the process just ended
      }
    }
  }

  private retire(member: Member): void {
    const report = rssReport(member);
    if (report) this.ended.push(report);
  }

  /** Every incarnation so far: the ended ones and the current ones (as of now). */
  rssReports(): RssReport[] {
    return [...this.ended, ...this.members.filter((m) => m.server).map(rssReport).filter((r): r is RssReport => r !== null)];
  }

  /** Stops every member (SIGTERM, then SIGKILL for any that does not end), recording RSS. */
  async stopAll(): Promise<void> {
    this.sampleRss();
    await Promise.all(
      this.members.map(async (m) => {
        if (!m.server) return;
        if (m.frozen) this.thaw(m.name);
        this.retire(m);
        const server = m.server;
        m.server = null;
        const timer = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
        await server.stop('SIGTERM');
        clearTimeout(timer);
      }),
    );
  }

  output(name: string): string {
    return this.get(name).server?.output() ?? '';
  }
}
