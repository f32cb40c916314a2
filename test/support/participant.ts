import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

export interface RecordedCall {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: any;
  at: number;
}

/** What the participant does for one call: answer with a status and body, or hang. */
export type Behaviour = (
  call: RecordedCall,
  nth: number,
) => { status: number; body?: unknown; raw?: string | Buffer; delayMs?: number; headers?: Record<string, string> } | 'hang';

/**
 * A real HTTP participant for tests: records every call and answers by path.
 * Unknown paths answer 200 `{ ok: true, path }`.
 */
export class Participant {
  readonly calls: RecordedCall[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    return this;
  }

  /** Keeps idle client connections open this long (Node's default closes them after 5 s). */
  keepConnectionsFor(ms: number): this {
    this.server.keepAliveTimeout = ms;
    return this;
  }

  callsTo(path: string): RecordedCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const call: RecordedCall = { path: req.url ?? '', method: req.method ?? '', headers: req.headers, body: text ? JSON.parse(text) : null, at: Date.now() };
        this.calls.push(call);
        const nth = this.callsTo(call.path).length;
        const behaviour = this.behaviours.get(call.path);
        const answer = behaviour ? behaviour(call, nth) : { status: 200, body: { ok: true, path: call.path } };
        if (answer === 'hang') {
          this.hanging.add(res);
          return;
        }
        const send = () => {
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
