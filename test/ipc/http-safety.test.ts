/**
 * The HTTP transport under hostile or heavy input: a multi-megabyte message does not freeze the
 * server, an oversized one is refused, 300,000 arguments are a 400, an I/O failure is `IO_ERROR`
 * with its errno, and only 127.0.0.1, ::1 and ::ffff:127.0.0.1 count as loopback.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageInput } from '../../src/core/types.js';
import { SessionIpcError } from '../../src/ipc/channels.js';
import { createSessionClient } from '../../src/ipc/client.js';
import { toIpcError } from '../../src/ipc/handlers.js';
import { isLoopbackHost, serveSessions } from '../../src/ipc/http.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime, SessionRuntimeOptions } from '../../src/runtime/types.js';
import { createTokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { KEY } from './happy-path.js';

const opened: Array<{ runtime: SessionRuntime; server: { close(): Promise<void> } }> = [];
afterEach(async () => {
  for (const { server, runtime } of opened.splice(0)) {
    await server.close();
    await runtime.close();
  }
});

async function serve(options: Omit<SessionRuntimeOptions, 'root'> = {}) {
  const root = await tempRoot();
  const runtime = await createSessionRuntime({ root, ...options });
  const server = await serveSessions(runtime, { maxBodyBytes: 64 * 1024 * 1024 });
  opened.push({ runtime, server });
  const { id } = await runtime.createSession(KEY);
  return { root, runtime, server, id };
}

async function post(url: string, body: string) {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      ok: boolean;
      error?: { code: string; message: string; details?: unknown };
    },
  };
}

/** Several megabytes of real text (transcripts), which js-tiktoken takes seconds to count. */
async function megabytesOfText(bytes: number): Promise<string> {
  const dir = path.resolve('../shared/transcripts');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  let text = (await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8')))).join('\n');
  if (text.length === 0)
    text = Array.from({ length: 50_000 }, (_, i) => `word${i} edits file${i % 97}.ts; `).join('');
  while (text.length < bytes) text += `\n${text}`;
  return text.slice(0, bytes);
}

/** The real estimator, with a note of when a big message's count starts and ends. */
function observedEstimator(order: string[], onStart: () => void): TokenEstimator {
  const real = createTokenEstimator();
  const big = (m: { content: unknown }) => typeof m.content === 'string' && m.content.length > 1_000_000;
  const note = (m: { content: unknown }, what: string) => {
    if (!big(m)) return;
    order.push(what);
    if (what === 'counting') onStart();
  };
  return {
    name: real.name,
    estimate: (text) => real.estimate(text),
    estimateContent: (content) => real.estimateContent(content),
    estimateMessages: (messages) => real.estimateMessages(messages),
    estimateCheckpoint: (checkpoint) => real.estimateCheckpoint(checkpoint),
    estimateMessage(message) {
      note(message, 'counting');
      const tokens = real.estimateMessage(message);
      note(message, 'counted');
      return tokens;
    },
    async estimateMessageAsync(message) {
      note(message, 'counting');
      const tokens = await real.estimateMessageAsync(message);
      note(message, 'counted');
      return tokens;
    },
  };
}

describe('a large message over HTTP', () => {
  it('does not freeze the server: /health answers while it is counted, before the append completes', async () => {
    const order: string[] = [];
    let started!: () => void;
    const counting = new Promise<void>((resolve) => (started = resolve));
    // A window large enough that no compaction starts after the append: only counting is timed here.
    const s = await serve({
      estimator: observedEstimator(order, () => started()),
      limits: { maxTokens: 5_000_000 },
    });
    const content = await megabytesOfText(2 * 1024 * 1024);
    const appended = post(
      `${s.server.url}/rpc/session:addMessage`,
      JSON.stringify([s.id, { role: 'user', content }]),
    ).then((answer) => {
      order.push('appended');
      return answer;
    });
    await counting;
    const health = await fetch(`${s.server.url}/health`);
    order.push(`health ${health.status}`);
    expect((await appended).body.ok).toBe(true);
    expect(order).toEqual(['counting', 'health 200', 'counted', 'appended']);
    const [stored] = await s.runtime.getMessages(s.id);
    expect(stored!.content).toBe(content);
    // Counted (identical to a main-thread count: test/tokens/counting-worker.test.ts), not guessed.
    expect(stored!.tokens).toBeGreaterThan(content.length / 8);
  }, 180_000);

  it('passing maxMessageBytes is MESSAGE_TOO_LARGE, with the limit in details, and writes nothing', async () => {
    const s = await serve({ maxMessageBytes: 1024 * 1024 });
    const before = await snapshotDir(s.root);
    const message: MessageInput = {
      role: 'user',
      content: 'y'.repeat(600 * 1024),
      metadata: { log: 'z'.repeat(600 * 1024) },
    };
    const answer = await post(`${s.server.url}/rpc/session:addMessage`, JSON.stringify([s.id, message]));
    expect(answer).toMatchObject({
      status: 200,
      body: { ok: false, error: { code: 'MESSAGE_TOO_LARGE', details: { maxBytes: 1024 * 1024 } } },
    });
    expect(answer.body.error!.message).toMatch(/split it into several messages/);
    expect(await snapshotDir(s.root)).toEqual(before);
    const ok = await post(
      `${s.server.url}/rpc/session:addMessage`,
      JSON.stringify([s.id, { role: 'user', content: 'y'.repeat(1000 * 1024) }]),
    );
    expect(ok.body.ok).toBe(true);
  });
});

describe('hostile requests', () => {
  it('300,000 arguments are a 400 that says how to call the channel, not a 500', async () => {
    const s = await serve();
    const answer = await post(
      `${s.server.url}/rpc/session:get`,
      JSON.stringify(new Array(300_000).fill(s.id)),
    );
    expect(answer).toMatchObject({ status: 400, body: { ok: false, error: { code: 'BAD_REQUEST' } } });
    expect(answer.body.error!.message).toMatch(
      /session:get takes at most 1 argument, got 300000; call it as session:get\(id\)/,
    );
    expect((await fetch(`${s.server.url}/health`)).status).toBe(200);
  });

  it('an I/O failure reaches the client as IO_ERROR with its errno, never as INTERNAL_ERROR', async () => {
    const s = await serve();
    // A directory where context.json should be: the rename of its atomic write fails with EISDIR.
    await mkdir(path.join(s.root, '.dagent', 'sessions', s.id, 'context.json'));
    const client = createSessionClient(s.server.url);
    const error = await client.setContext(s.id, { featureName: 'Export' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionIpcError);
    expect(error).toMatchObject({ code: 'IO_ERROR', details: { errno: 'EISDIR', syscall: 'rename' } });
    // And a runtime that lets a raw error through is answered the same way.
    const raw = await readFile(s.root).catch((e: unknown) => e);
    expect(toIpcError(raw, 'session:get')).toMatchObject({ code: 'IO_ERROR', details: { errno: 'EISDIR' } });
  });
});

describe('loopback', () => {
  it(
    'only 127.0.0.1, ::1 and ::ffff:127.0.0.1 (and the name localhost) are loopback; ' +
      '127.0.0.2 needs a token',
    async () => {
      expect(['127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost'].every(isLoopbackHost)).toBe(true);
      expect(
        ['127.0.0.2', '127.1.2.3', '127.255.255.255', '0.0.0.0', '::', '::ffff:127.0.0.2'].some(
          isLoopbackHost,
        ),
      ).toBe(false);
      const runtime = await createSessionRuntime({ root: await tempRoot() });
      for (const host of ['127.0.0.2', '127.1.2.3']) {
        await expect(serveSessions(runtime, { host })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          message: expect.stringMatching(/refusing to listen on 127\.\d+\.\d+\.\d+ without a token/),
        });
      }
      const guarded = await serveSessions(runtime, {
        host: '127.0.0.2',
        token: 'test-token-0123456789abcdef',
      });
      expect(guarded.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      await guarded.close();
      const local = await serveSessions(runtime, { host: 'localhost' });
      const { hostname, port } = new URL(local.url);
      // The Host header of a request to a server without a token must name a loopback host.
      const statusFor = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            { host: hostname.replace(/^\[|\]$/g, ''), port, path: '/health', headers: { host } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject).end();
        });
      expect(await statusFor(`127.0.0.2:${port}`)).toBe(403);
      expect(await statusFor(`localhost:${port}`)).toBe(200);
      expect(await statusFor(`[::ffff:7f00:1]:${port}`)).toBe(200); // ::ffff:127.0.0.1 as URLs write it
      expect(await statusFor(`[::ffff:7f00:2]:${port}`)).toBe(403);
      await local.close();
      await runtime.close();
    },
  );

  it('serves on ::ffff:127.0.0.1 without a token, as documented, and answers a client there', async () => {
    // The URL of that address is http://[::ffff:7f00:1]:port: that form was taken for another
    // address, so serveSessions refused the loopback address it had just bound.
    expect(isLoopbackHost('[::ffff:7f00:1]')).toBe(true);
    expect(isLoopbackHost('::ffff:7f00:2')).toBe(false);
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const server = await serveSessions(runtime, { host: '::ffff:127.0.0.1' });
    opened.push({ runtime, server });
    expect(new URL(server.url).hostname).toBe('[::ffff:7f00:1]');
    const client = createSessionClient(server.url);
    const { id } = await client.create(KEY);
    expect((await client.get(id)).id).toBe(id);
    client.close();
  });
});
