import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionClient } from '../../src/ipc/client.js';
import { serveSessions, type SessionServer } from '../../src/ipc/http.js';
import { PAGE_CSP, createInspectorHandler } from '../../src/inspector/page-handler.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';

const ASSETS = {
  html: '<!doctype html><script type="module" src="inspector.js?v=x"></script>',
  js: 'console.log("inspector")',
  css: '.dgi-root{}',
};
const TOKEN = 'page-test-token-0123456789';

const opened: Array<{ runtime: SessionRuntime; server: SessionServer }> = [];
afterEach(async () => {
  for (const { server, runtime } of opened.splice(0)) {
    await server.close();
    await runtime.close();
  }
});

async function serve(options: Parameters<typeof serveSessions>[1] = {}) {
  const runtime = await createSessionRuntime({ root: await tempRoot() });
  const server = await serveSessions(runtime, { page: createInspectorHandler(ASSETS), ...options });
  opened.push({ runtime, server });
  return server;
}

/** A raw request, to send a Host header fetch would not. */
function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createInspectorHandler in serveSessions', () => {
  it('serves the page, its script and its styles with their types and caching', async () => {
    const { url } = await serve();
    const page = await get(`${url}/`);
    expect(page).toMatchObject({
      status: 200,
      body: ASSETS.html,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': PAGE_CSP,
        'x-content-type-options': 'nosniff',
      },
    });
    expect((await get(`${url}/index.html`)).body).toBe(ASSETS.html);
    const script = await get(`${url}/inspector.js`);
    expect(script).toMatchObject({
      status: 200,
      body: ASSETS.js,
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
    });
    expect((await get(`${url}/inspector.css`)).headers['content-type']).toBe('text/css; charset=utf-8');
    const etag = String(script.headers['etag']);
    expect(await get(`${url}/inspector.js`, { 'if-none-match': etag })).toMatchObject({
      status: 304,
      body: '',
    });
    const head = await get(`${url}/`, {}, 'HEAD');
    expect(head).toMatchObject({
      status: 200,
      body: '',
      headers: { 'content-length': String(Buffer.byteLength(ASSETS.html)) },
    });
  });

  it('marks the script immutable under the URL of its current version only', async () => {
    const handler = createInspectorHandler(ASSETS);
    const { url } = await serve({ page: handler });
    const etag = String((await get(`${url}/inspector.js`)).headers['etag']);
    const version = etag.slice(1, 13);
    expect((await get(`${url}/inspector.js?v=${version}`)).headers['cache-control']).toBe(
      'public, max-age=31536000, immutable',
    );
    expect((await get(`${url}/inspector.js?v=stale`)).headers['cache-control']).toBe('no-cache');
  });

  it('leaves the API alone and answers 404 for other paths and 405 for other methods', async () => {
    const { url } = await serve();
    await expect(createSessionClient(url).list()).resolves.toEqual([]);
    expect(await get(`${url}/health`)).toMatchObject({ status: 200 });
    expect(await get(`${url}/nope.js`)).toMatchObject({
      status: 404,
      body: expect.stringContaining('NOT_FOUND'),
    });
    expect(await get(`${url}/`, { 'content-type': 'application/json' }, 'POST')).toMatchObject({
      status: 404,
    });
    expect((await get(`${url}/rpc/session:list`)).status).toBe(405);
  });

  it('keeps the Host check (DNS rebinding) and the token in front of the page', async () => {
    const open = await serve();
    expect(await get(`${open.url}/`, { host: 'evil.example:80' })).toMatchObject({ status: 403 });
    const guarded = await serve({ token: TOKEN });
    expect(await get(`${guarded.url}/`)).toMatchObject({ status: 401 });
    expect(await get(`${guarded.url}/`, { authorization: `Bearer ${TOKEN}` })).toMatchObject({
      status: 200,
      body: ASSETS.html,
    });
  });

  it('refuses a page that is not a function', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    await expect(serveSessions(runtime, { page: 'index.html' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/page must be a function/),
    });
    await runtime.close();
  });
});
