import { createServer, type Server } from 'node:http';
import { freePort } from './server-process.js';

/** A span as OTLP/HTTP JSON carries it. */
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

/** An OTLP/HTTP JSON receiver: keeps every body posted to it (as text) and the spans in them. */
export async function otlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; bodies: string[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const bodies: string[] = [];
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      const body = JSON.parse(text);
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, spans, bodies, close: () => new Promise((r) => server.close(() => r())) };
}
