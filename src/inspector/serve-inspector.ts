/**
 * The inspector page for a host that already serves its sessions elsewhere (`inspect --url`):
 * a loopback server that serves the page and forwards `/rpc/...`, `/events` and `/health` to the
 * host, adding its token. The browser then talks to one origin only, so the host needs no CORS
 * headers and its token never reaches the page.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SessionError, describeError } from '../core/errors.js';
import { isLoopbackHost, type SessionServer } from '../ipc/http.js';
import { loadInspectorAssets, type InspectorAssets } from './bundle.js';
import { createInspectorHandler } from './page-handler.js';
import { listen } from '../ipc/listen.js';

/**
 * Options of {@link serveInspector}.
 * @example const options: ServeInspectorOptions = { target: 'http://10.0.0.5:7420', token: process.env.DAGENT_TOKEN };
 */
export interface ServeInspectorOptions {
  /** Base URL of the host's `serveSessions` server (http or https). */
  target: string;
  /** The host's token, sent upstream as `Authorization: Bearer <token>`. */
  token?: string;
  /** Local port; default 0 (any free one: read it from `url`). */
  port?: number;
  /** Local address; loopback only (default `127.0.0.1`): the page has no token of its own. */
  host?: string;
  /** The page's assets; default `await loadInspectorAssets()`. */
  assets?: InspectorAssets;
}

const FORWARDED_REQUEST = ['content-type', 'content-length', 'accept'] as const;
const FORWARDED_RESPONSE = [
  'content-type',
  'content-length',
  'cache-control',
  'allow',
  'www-authenticate',
  'x-content-type-options',
  'x-accel-buffering',
] as const;

function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

function fail(message: string): never {
  throw new SessionError('INVALID_ARGUMENT', 'runtime', `serveInspector: ${message}`);
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    JSON.stringify({
      ok: false,
      error: { code, message: `[dagent-sessions] [runtime] ${message}`, retryable: status === 502 },
    }),
  );
}

/**
 * Serves the inspector page on loopback for the sessions of another server: `GET /` is the page,
 * and the API paths are forwarded to `target` with `token`, the event stream included. Requests
 * whose `Host` header is not a loopback name are refused (403), as `serveSessions` does.
 *
 * @param options - `target` (required), `token`, `port`, `host`, `assets`.
 * @returns `{ url, close }` once listening; `close()` ends forwarded event streams too.
 * @throws SessionError `INVALID_ARGUMENT` for a target that is not an http(s) URL or a
 *   non-loopback `host`; `IO_ERROR` when the port cannot be bound or the page cannot be loaded.
 * @example
 * ```ts
 * const inspector = await serveInspector({ target: 'http://10.0.0.5:7420', token });
 * console.log(`open ${inspector.url}`);
 * ```
 */
export async function serveInspector(options: ServeInspectorOptions): Promise<SessionServer> {
  const { port = 0, host = '127.0.0.1', token } = options;
  let target: URL;
  try {
    target = new URL(options.target);
  } catch {
    fail(
      `target must be the URL of a serveSessions server, got ${JSON.stringify(String(options.target)).slice(0, 200)}`,
    );
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    fail(`target must be an http(s) URL, got ${target.protocol}`);
  if (!isLoopbackHost(host))
    fail(`host must be a loopback address (the page has no token of its own), got ${host}`);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    fail(`port must be an integer from 0 to 65535, got ${String(port)}`);
  const base = target.href.replace(/\/+$/, '');
  const page = createInspectorHandler(options.assets ?? (await loadInspectorAssets()));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const upstream = send(
      `${base}${req.url ?? '/'}`,
      {
        method: req.method,
        headers: {
          ...pick(req.headers, FORWARDED_REQUEST),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, pick(reply.headers, FORWARDED_RESPONSE));
        reply.pipe(res);
        reply.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (error) =>
      answer(
        res,
        502,
        'CONNECTION_FAILED',
        `could not reach ${base} (${describeError(error)}); is its serveSessions running?`,
      ),
    );
    res.on('close', () => upstream.destroy()); // the browser left: stop the upstream (event) stream
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!isLoopbackHost(hostHeader))
      return answer(res, 403, 'UNAUTHORIZED', `Host ${JSON.stringify(hostHeader)} is not a loopback name`);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/rpc/') || path === '/events' || path === '/health') return forward(req, res);
    try {
      if (page(req, res)) return;
    } catch (error) {
      return answer(res, 500, 'INTERNAL_ERROR', `the page failed: ${describeError(error)}`);
    }
    answer(res, 404, 'NOT_FOUND', `no ${JSON.stringify(path.slice(0, 100))}; the page is at /`);
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const url = await listen(server, port, host, 'serveInspector');
  let closed: Promise<void> | null = null;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // forwarded event streams never end by themselves
      });
      return closed;
    },
  };
}
