import { request } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_CHANNELS, SessionIpcError } from '../../src/ipc/channels.js';
import { createSessionClient, readEventStream } from '../../src/ipc/client.js';
import { isLoopbackHost, serveSessions } from '../../src/ipc/http.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { KEY, walkEveryChannel, walkRuntime } from './happy-path.js';

const TOKEN = 'test-token-0123456789abcdef';

async function serve(options: Parameters<typeof serveSessions>[1] = {}, given?: SessionRuntime) {
  const runtime = given ?? (await createSessionRuntime({ root: await tempRoot() }));
  const server = await serveSessions(runtime, options);
  const s = { root: runtime.root, runtime, server };
  opened.push(s);
  return s;
}

const opened: Array<{ runtime: SessionRuntime; server: { close(): Promise<void> } }> = [];
afterEach(async () => {
  for (const { server, runtime } of opened.splice(0)) {
    await server.close();
    await runtime.close();
  }
});

async function raw(
  url: string,
  init: RequestInit = {},
): Promise<{
  status: number;
  body: { ok: boolean; value?: unknown; error?: { code: string; message: string } };
  headers: Headers;
}> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as never, headers: response.headers };
}

const post = (
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => raw(url, { method: 'POST', body, headers });

describe('serveSessions + createSessionClient', () => {
  it('serves every channel over HTTP with the same answers', async () => {
    const walk = await walkRuntime();
    const s = await serve({}, walk.runtime);
    expect(s.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = createSessionClient(s.server.url);
    await walkEveryChannel(client);
    expect(await raw(`${s.server.url}/health`)).toMatchObject({
      status: 200,
      body: { ok: true, value: { status: 'ok', channels: [...SESSION_CHANNELS] } },
    });
    await s.server.close();
    await walk.close();
  });

  it('streams events over SSE: a compaction started by client.compact is seen completed', async () => {
    const s = await serve();
    const client = createSessionClient(s.server.url);
    const events: SessionEvent[] = [];
    const completed = new Promise<SessionEvent>((resolve) => {
      client.onEvent((e) => {
        events.push(e);
        if (e.type === 'session.compaction.completed') resolve(e);
      });
    });
    await client.eventsConnected();
    const { id } = await client.create(KEY);
    for (let i = 0; i < 4; i++)
      await client.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content: `turn ${i} `.repeat(80) });
    const result = await client.compact(id, { keepRecentTokens: 0 });
    expect(await completed).toMatchObject({
      type: 'session.compaction.completed',
      sessionId: id,
      checkpointVersion: result.checkpointVersion,
    });
    expect(events[0]?.type).toBe('session.created');
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['session.message.appended', 'session.compaction.started']),
    );
    client.close();
    await expect(client.eventsConnected()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('answers transport errors with envelopes and the right status', async () => {
    const s = await serve({ maxBodyBytes: 64 * 1024 });
    const rpc = `${s.server.url}/rpc`;
    const bad = await post(`${rpc}/session:get`, '["feature--f1--pm"');
    expect(bad).toMatchObject({
      status: 400,
      body: {
        ok: false,
        error: { code: 'BAD_REQUEST', message: expect.stringMatching(/not valid JSON.*JSON array/) },
      },
    });
    expect(await post(`${rpc}/session:get`, '{"id":"x"}')).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/must be a JSON array/) } },
    });
    expect(await post(`${rpc}/session:nope`, '[]')).toMatchObject({
      status: 404,
      body: {
        error: {
          code: 'NOT_FOUND',
          message: expect.stringMatching(/unknown channel "session:nope"; the channels are session:create/),
        },
      },
    });
    expect(await post(`${rpc}/__proto__`, '[]')).toMatchObject({ status: 404 });
    expect(await post(`${s.server.url}/elsewhere`, '[]')).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    const wrongMethod = await raw(`${rpc}/session:get`);
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await post(`${s.server.url}/events`, '[]')).toMatchObject({ status: 405 });
    expect(await post(`${rpc}/session:list`, '[]', { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      body: { error: { code: 'BAD_REQUEST' } },
    });
    const big = await post(
      `${rpc}/session:addMessage`,
      JSON.stringify(['feature--f1--pm', { role: 'user', content: 'x'.repeat(200_000) }]),
    );
    expect(big).toMatchObject({
      status: 413,
      body: {
        ok: false,
        error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/larger than 65536 bytes/) },
      },
    });
    // Argument errors are answers, not transport failures: 200 with the envelope.
    expect(await post(`${rpc}/session:get`, '[42]')).toMatchObject({
      status: 200,
      body: { ok: false, error: { code: 'INVALID_KEY' } },
    });
    expect(await post(`${rpc}/session:list`, '')).toMatchObject({
      status: 200,
      body: { ok: true, value: [] },
    });
    expect((await raw(`${s.server.url}/health`)).status).toBe(200);
  });

  it('refuses a 16 MiB+ body by default', async () => {
    const s = await serve();
    const { id } = await s.runtime.createSession(KEY);
    const before = await snapshotDir(s.root);
    const body = JSON.stringify([id, { role: 'user', content: 'x'.repeat(16 * 1024 * 1024) }]);
    expect(await post(`${s.server.url}/rpc/session:addMessage`, body)).toMatchObject({
      status: 413,
      body: { error: { code: 'PAYLOAD_TOO_LARGE' } },
    });
    expect(await snapshotDir(s.root)).toEqual(before);
    expect((await raw(`${s.server.url}/health`)).status).toBe(200);
  });

  it('refuses a non-loopback host without a token, and bad options', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.com']) {
      await expect(serveSessions(runtime, { host })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/refusing to listen on .* without a token: anyone who can reach/),
      });
    }
    await expect(serveSessions(runtime, { token: 'short' })).rejects.toMatchObject({
      message: expect.stringMatching(/at least 16 characters/),
    });
    await expect(serveSessions(runtime, { port: 70_000 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const first = await serveSessions(runtime);
    const port = Number(new URL(first.url).port);
    await expect(serveSessions(runtime, { port })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringMatching(/EADDRINUSE/),
    });
    await first.close();
    const open = await serveSessions(runtime, { host: '0.0.0.0', token: TOKEN });
    const client = createSessionClient(open.url.replace('0.0.0.0', '127.0.0.1'), { token: TOKEN });
    expect(await client.list()).toEqual([]);
    await open.close();
    expect(['127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'localhost.evil.com', '127.0.0.1.nip.io'].some(isLoopbackHost)).toBe(
      false,
    );
    await runtime.close();
  });

  it('with a token, answers 401 to every request without it', async () => {
    const s = await serve({ token: TOKEN });
    const url = s.server.url;
    for (const [path, init] of [
      ['/rpc/session:list', { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } }],
      ['/health', {}],
      ['/events', {}],
      ['/nope', {}],
    ] as const) {
      const answer = await raw(`${url}${path}`, init);
      expect(answer).toMatchObject({
        status: 401,
        body: {
          ok: false,
          error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/Authorization: Bearer/) },
        },
      });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
    await expect(createSessionClient(url).list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(createSessionClient(url, { token: `${TOKEN}x` }).list()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    const client = createSessionClient(url, { token: TOKEN, reconnectMs: 0 });
    const created = new Promise<SessionEvent>((resolve) => client.onEvent(resolve));
    await client.eventsConnected();
    await client.create(KEY);
    expect(await created).toMatchObject({ type: 'session.created' });
    const denied = createSessionClient(url, { reconnectMs: 0 });
    denied.onEvent(() => undefined);
    await expect(denied.eventsConnected()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    client.close();
  });

  it('answers 403 to a non-loopback Host header when there is no token (DNS rebinding)', async () => {
    const s = await serve();
    const { port } = new URL(s.server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/health', headers: { host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject).end();
    });
    expect(status).toBe(403);
  });

  it('close() ends open event streams and the server', async () => {
    const s = await serve({ heartbeatMs: 20 });
    const response = await fetch(`${s.server.url}/events`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const comments: string[] = [];
    const ended = readEventStream(response.body!, (name) => comments.push(name));
    const client = createSessionClient(s.server.url, { reconnectMs: 0 });
    client.onEvent(() => undefined);
    await client.eventsConnected();
    await new Promise((r) => setTimeout(r, 60)); // a few heartbeats
    await s.server.close();
    await ended; // the stream ended instead of hanging
    expect(comments).toEqual([]); // heartbeats are comments, not events
    await expect(client.list()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/could not reach/),
    });
  });

  it('refuses arguments JSON cannot carry before sending them', async () => {
    const s = await serve();
    const client = createSessionClient(s.server.url);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(client.setContext('feature--f1--pm', cyclic)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/cannot be sent as JSON/),
    });
    await expect(client.compact('feature--f1--pm', { keepRecentTokens: Number.NaN })).rejects.toBeInstanceOf(
      SessionIpcError,
    );
    expect(() => createSessionClient('ftp://x')).toThrow(/http\(s\) URL/);
  });

  it('survives generated junk bodies and paths, writing nothing', async () => {
    const s = await serve({ maxBodyBytes: 4096 });
    await s.runtime.createSession(KEY);
    const before = await snapshotDir(s.root);
    const path = fc.oneof(
      fc.constantFrom(...SESSION_CHANNELS).map((c) => `/rpc/${c}`),
      fc.webPath(),
      fc.string().map((p) => `/rpc/${encodeURIComponent(p)}`),
    );
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.array(fc.jsonValue(), { maxLength: 4 }).map((a) => JSON.stringify(a)),
      fc.uint8Array({ maxLength: 5000 }),
    );
    await fc.assert(
      fc.asyncProperty(path, body, fc.constantFrom('POST', 'GET', 'PUT'), async (p, b, method) => {
        const response = await fetch(`${s.server.url}${p.startsWith('/') ? p : `/${p}`}`, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: b }),
        });
        const answer = (await response.json()) as { ok: boolean; error?: { code: string; message: string } };
        expect([200, 400, 404, 405, 413]).toContain(response.status);
        if (!answer.ok) expect(answer.error?.message.length).toBeGreaterThan(10);
        expect(answer.error?.code).not.toBe('INTERNAL_ERROR');
      }),
      { numRuns: 150 },
    );
    expect(await snapshotDir(s.root)).toEqual(before);
    expect((await raw(`${s.server.url}/health`)).status).toBe(200);
  });
});
