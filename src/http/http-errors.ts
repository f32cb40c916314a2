import FindMyWay from 'find-my-way';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../common/app-error.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from './problem.js';

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers over
 * 16 KiB, a bad Content-Length, a request not received in time) are written
 * here, on the socket, as problem+json; the connection is then closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, detail } = classifyClientError(error);
  // A response already under way (a long poll, a drained 413) cannot be replaced: just close.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const problem = problemOf(code, detail);
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Whatever the client still sends is not read; the socket goes once the answer is written.
  socket.once('finish', () => socket.destroy());
}

function classifyClientError(error: NodeJS.ErrnoException & { reason?: string }): { code: ErrorCode; detail: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: ErrorCode.REQUEST_TIMEOUT, detail: 'The request was not received in full in time (REQUEST_TIMEOUT_MS); the connection is closed. Send the whole request at once.' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: ErrorCode.HEADERS_TOO_LARGE, detail: 'The request headers are larger than 16 KiB.' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { code: ErrorCode.MALFORMED_REQUEST, detail: 'The Content-Length header is not valid (one decimal number, and not together with Transfer-Encoding).' };
    default:
      return { code: ErrorCode.MALFORMED_REQUEST, detail: `The request is not valid HTTP/1.1 (${error.reason ?? error.code ?? 'parse error'}).` };
  }
}

/** How much of a refused body is still read, so that the client can finish sending and read the 413. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 30_000;

/**
 * Reads and discards the rest of a request's body. Answering a body over
 * the limit at once and closing would reset the connection under a client
 * that is still sending (it sees EPIPE, not the 413): like nginx's lingering
 * close, the rest is read first, up to 64 MiB or 30 s.
 */
export function drainRequestBody(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
    raw.on('data', onData).once('end', finish).once('error', finish).once('close', finish);
    raw.resume();
  });
}

/**
 * Which methods each route answers, to tell a wrong method (405 with Allow)
 * from a path that does not exist (404). Filled from Fastify's onRoute hook,
 * matched with Fastify's own router library.
 */
export class RouteMethods {
  private readonly router = FindMyWay();
  private readonly methods = new Map<string, Set<string>>();

  add(method: string | string[], url: string): void {
    let known = this.methods.get(url);
    if (!known) {
      known = new Set();
      this.methods.set(url, known);
      this.router.on('GET', url, () => undefined, { url });
    }
    for (const m of Array.isArray(method) ? method : [method]) known.add(m.toUpperCase());
  }

  /** The methods the route at `path` answers; empty when no route matches it. */
  allowed(path: string): string[] {
    const found = this.router.find('GET', path.split('?')[0]);
    const url = (found?.store as { url?: string } | undefined)?.url;
    return url ? [...(this.methods.get(url) ?? [])].sort() : [];
  }
}
