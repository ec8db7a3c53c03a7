import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionClient } from '../../src/ipc/client.js';
import { serveSessions, type SessionServer } from '../../src/ipc/http.js';
import { serveInspector } from '../../src/inspector/serve-inspector.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';

const ASSETS = { html: '<!doctype html><title>inspector</title>', js: 'void 0' };
const TOKEN = 'remote-token-0123456789abcdef';

const servers: SessionServer[] = [];
const runtimes: SessionRuntime[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const runtime of runtimes.splice(0)) await runtime.close();
});

async function remote(): Promise<SessionServer> {
  const runtime = await createSessionRuntime({ root: await tempRoot() });
  runtimes.push(runtime);
  const server = await serveSessions(runtime, { token: TOKEN });
  servers.push(server);
  return server;
}

async function inspector(
  options: Partial<Parameters<typeof serveInspector>[0]> & { target: string },
): Promise<SessionServer> {
  const server = await serveInspector({ assets: ASSETS, ...options });
  servers.unshift(server); // closed before the server it forwards to
  return server;
}

function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('serveInspector (inspect --url)', () => {
  it('serves the page and forwards calls and events to the host with its token', async () => {
    const host = await remote();
    const local = await inspector({ target: host.url, token: TOKEN });
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(`${local.url}/`);
    expect([page.status, await page.text()]).toEqual([200, ASSETS.html]);

    const client = createSessionClient(local.url); // no token: the proxy adds it
    const created = new Promise<SessionEvent>((resolve) =>
      client.onEvent((e) => e.type === 'session.created' && resolve(e)),
    );
    await client.eventsConnected();
    const info = await client.create({ type: 'feature', agentType: 'pm', featureId: 'f1' });
    await expect(created).resolves.toMatchObject({ type: 'session.created', sessionId: info.id });
    await client.addMessage(info.id, { role: 'user', content: 'hello through the proxy' });
    expect((await client.getHistory(info.id)).map((m) => m.content)).toEqual(['hello through the proxy']);
    expect(await status(`${local.url}/health`)).toBe(200);
    await local.close(); // ends the forwarded event stream too
    client.close();
  });

  it("passes the host's refusals on, and answers 502 when the host is down", async () => {
    const host = await remote();
    const noToken = await inspector({ target: host.url });
    await expect(createSessionClient(noToken.url).list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const gone = await serveSessions(runtimes[0]!, {});
    await gone.close();
    const down = await inspector({ target: gone.url });
    await expect(createSessionClient(down.url).list()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(await status(`${down.url}/nope`)).toBe(404);
  });

  it('answers loopback Host names only and refuses bad options', async () => {
    const host = await remote();
    const local = await inspector({ target: host.url, token: TOKEN });
    expect(await status(`${local.url}/`, { host: 'rebound.example' })).toBe(403);
    await expect(serveInspector({ target: 'ftp://x', assets: ASSETS })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(serveInspector({ target: 'not a url', assets: ASSETS })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(serveInspector({ target: host.url, host: '0.0.0.0', assets: ASSETS })).rejects.toMatchObject(
      { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/loopback/) },
    );
  });
});
