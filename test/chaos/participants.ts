import { createServer, Server, ServerResponse } from 'node:http';

/** What a saga's participants do, chosen per saga and carried in its input. */
export type Plan =
  | { kind: 'ok' }
  /** The action of step `at` answers 422 (a permanent failure). */
  | { kind: 'fail'; at: number }
  /** The action of step `at` never answers (every attempt times out). */
  | { kind: 'hang'; at: number }
  /** The action of step `at` always answers 500 (retried until the budget is spent). */
  | { kind: 'poison'; at: number }
  /** The action of step `at` answers 200 after 300-600 ms (within its timeout). */
  | { kind: 'slow'; at: number };

/** A callback a participant posted (SPEC §10), and how the server finally answered it (0: never reached). */
export interface SentCallback {
  sagaId: string;
  step: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  answer: number;
  at: number;
}

export interface Call {
  sagaId: string;
  run: number;
  step: string;
  phase: 'action' | 'compensation';
  attempt: number;
  key: string | undefined;
  /** Definition version from the URL (`/v{n}/…`). */
  urlVersion: number;
  at: number;
}

/**
 * A fleet of participants behind one HTTP server (paths `/v{version}/{step}/{phase}`):
 * records every call under (sagaId, step, phase) and answers as the saga's
 * plan says, after 0-`maxDelayMs` ms.
 */
export class RecordingParticipants {
  readonly calls: Call[] = [];
  readonly callbacks: SentCallback[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  /** `callbackTo` names an API process to post callbacks to (null while none is up). */
  constructor(
    private readonly maxDelayMs = 20,
    private readonly callbackTo: () => string | null = () => null,
  ) {}

  /**
   * A callback step's participant (SPEC §10): acknowledges at once, then
   * posts the outcome after 50-1500 ms, trying again while no API process
   * answers (kills, outages), until the server takes or refuses it.
   */
  private callBack(call: Call, token: string, status: 'succeeded' | 'failed'): void {
    const sent: SentCallback = { sagaId: call.sagaId, step: call.step, attempt: call.attempt, status, answer: 0, at: 0 };
    this.callbacks.push(sent);
    const work = (async () => {
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 1450)));
      const until = Date.now() + 90_000;
      while (Date.now() < until) {
        const base = this.callbackTo();
        if (base) {
          try {
            const res = await fetch(`${base}/v1/callbacks/${token}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(status === 'succeeded' ? { status, output: { step: call.step, by: 'callback' } } : { status, error: { reason: 'declined by callback' } }),
              signal: AbortSignal.timeout(10_000),
            });
            await res.text();
            if (res.status === 202 || res.status === 200 || res.status === 409 || res.status === 404) {
              sent.answer = res.status;
              sent.at = Date.now();
              return;
            }
          } catch {
            // the process died under the request: try again, maybe elsewhere
          }
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Waits for every callback still being posted. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async start(): Promise<this> {
    this.server = createServer({ keepAlive: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const [, version, step, phase] = /^\/v(\d+)\/([^/]+)\/(action|compensation)$/.exec(req.url ?? '') ?? [];
        const call: Call = {
          sagaId: body.sagaId,
          run: body.run,
          step,
          phase: phase as Call['phase'],
          attempt: body.attempt,
          key: req.headers['idempotency-key'] as string | undefined,
          urlVersion: Number(version),
          at: Date.now(),
        };
        this.calls.push(call);
        const plan: Plan = body.input?.plan ?? { kind: 'ok' };
        const index = Number(step.slice(1));
        const token = typeof body.callbackToken === 'string' ? body.callbackToken : null;
        if (token && phase === 'action' && plan.kind !== 'poison') {
          // Acknowledged now; the outcome comes by callback (none for a hang: the attempt times out).
          const failing = plan.kind !== 'ok' && plan.at === index;
          if (!(failing && plan.kind === 'hang')) this.callBack(call, token, failing && plan.kind === 'fail' ? 'failed' : 'succeeded');
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end('{}');
          return;
        }
        let status = 200;
        let delayMs = Math.floor(Math.random() * this.maxDelayMs);
        if (phase === 'action' && plan.kind === 'slow' && plan.at === index) delayMs = 300 + Math.floor(Math.random() * 300);
        else if (phase === 'action' && plan.kind !== 'ok' && plan.at === index) {
          if (plan.kind === 'hang') {
            this.hanging.add(res);
            res.on('close', () => this.hanging.delete(res));
            return;
          }
          status = plan.kind === 'fail' ? 422 : 500;
        }
        setTimeout(() => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(status === 200 ? { step, phase, ok: true } : { error: `${plan.kind} at ${step}` }));
        }, delayMs);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
