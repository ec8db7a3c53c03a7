/**
 * The HTTP transport: the handler table over node:http. `POST /rpc/<channel>` with a JSON array of
 * arguments answers the envelope; `GET /events` streams runtime events as Server-Sent Events;
 * `GET /health` answers `{ ok: true }`. Loopback only unless a token guards it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SessionError, describeError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { SessionRuntime } from '../runtime/types.js';
import { PARAMS, signatureOf } from './arguments.js';
import { SESSION_CHANNELS, type IpcErrorCode, type IpcResult, type SessionChannel } from './channels.js';
import { createSessionHandlers, handlerOf, toIpcError } from './handlers.js';
import { createEventStreams } from './sse.js';
import { listen } from './listen.js';

/**
 * Options of {@link serveSessions}.
 * @example
 * const options: ServeSessionsOptions = { port: 7420, host: '0.0.0.0', token: randomBytes(24).toString('hex') };
 */
export interface ServeSessionsOptions {
  /** Port to listen on; default 0 (any free port: read it from `url`). */
  port?: number;
  /** Address to bind; default `127.0.0.1`. Any non-loopback address requires `token`. */
  host?: string;
  /** Required as `Authorization: Bearer <token>` on every request when set (at least 16 characters). */
  token?: string;
  /** Largest request body accepted; default 16 MiB (larger bodies are answered 413). */
  maxBodyBytes?: number;
  /** Interval of SSE heartbeat comments; default 15 s. */
  heartbeatMs?: number;
  /**
   * Serves a web page beside the API, such as the inspector's `createInspectorHandler(assets)`:
   * asked about every `GET`/`HEAD` request for a path other than `/rpc/...`, `/events` and
   * `/health`, after the token and `Host` checks; it answers and returns true, or returns false
   * (writing nothing) for a 404. With a `token`, the page too needs the `Authorization` header,
   * which a plain browser tab does not send: serve pages on loopback without a token.
   */
  page?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * What {@link serveSessions} resolves to.
 * @example const { url, close } = await serveSessions(runtime);
 */
export interface SessionServer {
  /** Base URL, such as `http://127.0.0.1:53211` (no trailing slash). */
  readonly url: string;
  /**
   * Ends every event stream, stops accepting requests and resolves once the server is closed. Does
   * not close the runtime.
   */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const MIN_TOKEN = 16;

/**
 * The addresses that count as loopback for serving without a token. `::ffff:7f00:1` is
 * `::ffff:127.0.0.1` as a URL writes it (the WHATWG URL parser gives IPv6 in hex), and so as the
 * server's own URL and a client's `Host` header name it.
 */
const LOOPBACK_ADDRESSES: ReadonlySet<string> = new Set([
  '127.0.0.1',
  '::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
]);

/**
 * @internal Whether a host name or address is a loopback one: `127.0.0.1`, `::1` (bracketed or
 * not), `::ffff:127.0.0.1`, or the name `localhost`. Other 127.x.y.z addresses are not: on many
 * systems they are routed elsewhere (containers, VPNs, other services bound there), so a server
 * there needs a token like any other address.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || LOOPBACK_ADDRESSES.has(h);
}

/**
 * @internal Whether `host` binds a loopback address: an address of {@link isLoopbackHost}, or a
 * name (`localhost`) that resolves to one, as `listen` itself resolves it.
 */
async function bindsLoopback(host: string): Promise<boolean> {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (LOOPBACK_ADDRESSES.has(h)) return true;
  if (h !== 'localhost') return false;
  const resolved = await lookup(h).catch(() => null);
  return resolved !== null && LOOPBACK_ADDRESSES.has(resolved.address);
}

function fail(message: string): never {
  throw invalid(message);
}

function invalid(message: string): SessionError {
  return new SessionError('INVALID_ARGUMENT', 'runtime', `serveSessions: ${message}`);
}

const SERVE_OPTIONS = optionNames({
  port: true,
  host: true,
  token: true,
  maxBodyBytes: true,
  heartbeatMs: true,
  page: true,
} satisfies Record<keyof ServeSessionsOptions, true>);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function envelope(code: IpcErrorCode, message: string): IpcResult<never> {
  return { ok: false, error: { code, message: `[dagent-sessions] [runtime] ${message}`, retryable: false } };
}

function send(
  res: ServerResponse,
  status: number,
  body: IpcResult,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  let text: string;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    status = 500;
    text = JSON.stringify({ ok: false, error: toIpcError(error, 'the response') });
  }
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/**
 * Reads the body up to `max` bytes; `null` when it is larger (read to its end and dropped, within
 * reason); rejects when cut off.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else if (size > max * 4) req.destroy(); // a sender that does not stop: cut it off
    });
    req.on('end', () => resolve(size <= max ? Buffer.concat(chunks) : null));
    req.on('error', reject);
    // A request cut off half-way is not run, even if what arrived happens to parse.
    req.on(
      'close',
      () => req.complete || reject(new Error('the client went away before sending the whole body')),
    );
  });
}

/**
 * Serves a runtime over HTTP on `host:port`: `POST /rpc/<channel>` (for example
 * `/rpc/session:addMessage`) with a JSON array of the channel's arguments, `Content-Type:
 * application/json`, answered 200 with the {@link IpcResult} envelope (argument and runtime errors
 * included); `GET /events`, a `text/event-stream` of every runtime event (`event: session:event`,
 * `data: <SessionEvent JSON>`, heartbeat comments); `GET /health`. Transport failures are
 * envelopes too: 400 bad JSON or body, 401 missing or wrong token, 403 a non-loopback `Host`
 * header on an unguarded server (DNS rebinding), 404 unknown path or channel, 405 wrong method,
 * 413 body too large, 415 not JSON. No CORS headers are sent: pages of other origins cannot call it.
 * With `page`, other `GET` paths are offered to it first (the inspector: `GET /`).
 *
 * @param runtime - The runtime to serve; `close()` leaves it open.
 * @param options - `port` (default 0: any free one), `host` (default `127.0.0.1`), `token`, limits, `page`.
 * @returns `{ url, close }` once listening.
 * @throws SessionError `INVALID_ARGUMENT` for a non-loopback `host` without a `token` (anyone who
 *   can reach the address could read and change every session), a short token or a bad port;
 *   `IO_ERROR` when the address cannot be bound.
 * @example
 * ```ts
 * const server = await serveSessions(runtime);          // http://127.0.0.1:<port>
 * const client = createSessionClient(server.url);
 * await client.list();
 * await server.close();
 * ```
 */
export async function serveSessions(
  runtime: SessionRuntime,
  options: ServeSessionsOptions = {},
): Promise<SessionServer> {
  // A misspelt `tokn` must not serve without the token the host meant to require.
  checkOptionNames(options, SERVE_OPTIONS, invalid);
  const {
    port = 0,
    host = '127.0.0.1',
    token,
    maxBodyBytes = DEFAULT_MAX_BODY,
    heartbeatMs = 15_000,
    page,
  } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    fail(`port must be an integer from 0 to 65535, got ${String(port)}`);
  if (typeof host !== 'string' || host === '') fail('host must be a non-empty string such as "127.0.0.1"');
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_TOKEN || /\s/.test(token))) {
    fail(
      `token must be a string of at least ${MIN_TOKEN} characters without spaces, ` +
        `for example crypto.randomBytes(24).toString("hex")`,
    );
  }
  if (token === undefined && !(await bindsLoopback(host))) {
    fail(
      `refusing to listen on ${host} without a token: anyone who can reach ` +
        `that address could read and change every session. ` +
        `Pass { token } (clients then send "Authorization: Bearer <token>") or bind 127.0.0.1`,
    );
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) fail('maxBodyBytes must be a positive integer');
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 1) fail('heartbeatMs must be a positive integer');
  if (page !== undefined && typeof page !== 'function')
    fail('page must be a function (req, res) => boolean, such as createInspectorHandler(assets)');

  const handlers = createSessionHandlers(runtime);
  const expected = token === undefined ? null : digest(`Bearer ${token}`);
  const streams = createEventStreams(runtime, heartbeatMs);
  let closing = false;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (expected) {
      const given = req.headers.authorization;
      if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
        return send(
          res,
          401,
          envelope(
            'UNAUTHORIZED',
            'this server needs "Authorization: Bearer <token>" with the token it was started with',
          ),
          { 'www-authenticate': 'Bearer' },
        );
      }
    } else {
      const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopbackHost(hostHeader)) {
        return send(
          res,
          403,
          envelope(
            'UNAUTHORIZED',
            `Host ${JSON.stringify(hostHeader)} is not a loopback name; ` +
              `this server answers only 127.0.0.1, [::1] and localhost unless started with a token`,
          ),
        );
      }
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/health') {
      if (req.method !== 'GET')
        return send(res, 405, envelope('METHOD_NOT_ALLOWED', 'use GET /health'), { allow: 'GET' });
      return send(res, 200, { ok: true, value: { status: 'ok', channels: [...SESSION_CHANNELS] } });
    }
    if (path === '/events') {
      if (req.method !== 'GET')
        return send(res, 405, envelope('METHOD_NOT_ALLOWED', 'use GET /events for the event stream'), {
          allow: 'GET',
        });
      return streams.open(res);
    }
    if (!path.startsWith('/rpc/')) {
      if (page && (req.method === 'GET' || req.method === 'HEAD') && page(req, res)) return;
      return send(
        res,
        404,
        envelope(
          'NOT_FOUND',
          `no ${JSON.stringify(path.slice(0, 100))}; use POST /rpc/<channel>, GET /events or GET /health`,
        ),
      );
    }
    let channel: string;
    try {
      channel = decodeURIComponent(path.slice('/rpc/'.length));
    } catch {
      channel = path.slice('/rpc/'.length);
    }
    const handler = handlerOf(handlers, channel);
    if (!handler) {
      return send(
        res,
        404,
        envelope(
          'NOT_FOUND',
          `unknown channel ${JSON.stringify(channel.slice(0, 100))}; the channels are ${SESSION_CHANNELS.join(', ')}`,
        ),
      );
    }
    if (req.method !== 'POST')
      return send(
        res,
        405,
        envelope('METHOD_NOT_ALLOWED', `use POST /rpc/${channel} with a JSON array of arguments`),
        { allow: 'POST' },
      );
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      return send(
        res,
        415,
        envelope('BAD_REQUEST', 'send the arguments with "Content-Type: application/json"'),
      );
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === null)
      return send(
        res,
        413,
        envelope(
          'PAYLOAD_TOO_LARGE',
          `the body is larger than ${maxBodyBytes} bytes; send less (large histories: add messages one by one)`,
        ),
        { connection: 'close' },
      );
    let args: unknown;
    try {
      args = body.length === 0 ? [] : (JSON.parse(body.toString('utf8')) as unknown);
    } catch (error) {
      return send(
        res,
        400,
        envelope(
          'BAD_REQUEST',
          `the body is not valid JSON (${describeError(error).slice(0, 200)}); ` +
            `send a JSON array of arguments such as ["feature--f1--pm"]`,
        ),
      );
    }
    if (!Array.isArray(args))
      return send(
        res,
        400,
        envelope(
          'BAD_REQUEST',
          `the body must be a JSON array of arguments such as ["feature--f1--pm"], ` +
            `got ${args === null ? 'null' : typeof args}`,
        ),
      );
    // Checked before the arguments are spread into a call: 300,000 of them would overflow the stack.
    const most = PARAMS[channel as SessionChannel].length;
    if (args.length > most)
      return send(
        res,
        400,
        envelope(
          'BAD_REQUEST',
          `${channel} takes at most ${most} argument${most === 1 ? '' : 's'}, ` +
            `got ${args.length}; call it as ${signatureOf(channel as SessionChannel)}`,
        ),
      );
    send(res, 200, await handler(...args));
  }

  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    // Once closing, a connection whose last response is sent is let go (keep-alive would hold close()).
    res.on('finish', () => closing && server.closeIdleConnections());
    route(req, res).catch((error: unknown) =>
      send(res, 500, { ok: false, error: toIpcError(error, `${req.method ?? ''} ${req.url ?? ''}`) }),
    );
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const url = await listen(server, port, host, 'serveSessions', () => streams.close());
  if (token === undefined && !isLoopbackHost(new URL(url).hostname)) {
    // Bound elsewhere than asked (a resolver that changed its answer): never serve it unguarded.
    streams.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fail(
      `${host} resolved to ${new URL(url).hostname}, not a loopback address; pass { token } or bind 127.0.0.1`,
    );
  }
  let closed: Promise<void> | null = null;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        streams.close();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
