/**
 * Serves the inspector page's assets from a node:http request handler: `GET /` (and
 * `/index.html`), `/inspector.js`, `/inspector.css`; every other request is left to the caller.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InspectorAssets } from './bundle.js';

/**
 * A request handler for the page: answers and returns true for a path it serves, returns false
 * (having written nothing) for any other. `serveSessions(runtime, { page })` takes one.
 * @example const page: PageHandler = createInspectorHandler(await loadInspectorAssets());
 */
export type PageHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The page's Content-Security-Policy: scripts only from itself, requests only to itself (the
 * session API), inline styles (React renders a `<style>`), nothing else.
 * @internal
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** The `?v=` value of an immutable URL, or null for the HTML (always revalidated). */
  version: string | null;
}

function asset(text: string, type: string, versioned: boolean): Asset {
  const digest = createHash('sha256').update(text).digest('hex');
  return {
    body: Buffer.from(text, 'utf8'),
    type,
    etag: `"${digest.slice(0, 32)}"`,
    version: versioned ? digest.slice(0, 12) : null,
  };
}

/**
 * A {@link PageHandler} for the inspector's assets. The HTML is sent `no-cache` (revalidated by
 * ETag) with a strict Content-Security-Policy; `inspector.js` and `inspector.css` are immutable
 * under the `?v=<hash>` URL the HTML uses, and revalidated otherwise. `If-None-Match` is answered
 * 304. Only `GET` and `HEAD` are served.
 *
 * @param assets - From `loadInspectorAssets()` or `buildInspectorBundle()`.
 * @returns The handler; it never throws for a request.
 * @example
 * ```ts
 * const page = createInspectorHandler(await loadInspectorAssets());
 * const server = await serveSessions(runtime, { page }); // open server.url in a browser
 * ```
 */
export function createInspectorHandler(assets: InspectorAssets): PageHandler {
  const html = asset(assets.html, 'text/html; charset=utf-8', false);
  const files = new Map<string, Asset>([
    ['/', html],
    ['/index.html', html],
    ['/inspector.js', asset(assets.js, 'text/javascript; charset=utf-8', true)],
  ]);
  if (assets.css !== undefined)
    files.set('/inspector.css', asset(assets.css, 'text/css; charset=utf-8', true));

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const [pathname = '/', query = ''] = (req.url ?? '/').split('?');
    const file = files.get(pathname);
    if (!file) return false;
    const immutable = file.version !== null && new URLSearchParams(query).get('v') === file.version;
    const headers: Record<string, string> = {
      'content-type': file.type,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag: file.etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (file === html) {
      headers['content-security-policy'] = PAGE_CSP;
      headers['x-frame-options'] = 'DENY';
    }
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    headers['content-length'] = String(file.body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
