/**
 * `session:reopen` (`runtime.reopenSession` over a transport) checks its argument as every other
 * channel does, alike over Electron's IPC (arguments structured-cloned) and over real HTTP on
 * loopback, and sits behind the same sender filter and token as every other call. What it does to a
 * session in doubt is in reopen-in-doubt.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { createSessionClient } from '../../src/ipc/client.js';
import { registerSessionIpc, type IpcMainInvokeEventLike, type IpcMainLike } from '../../src/ipc/electron.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { serveSessions } from '../../src/ipc/http.js';
import { createSessionApiFromIpcRenderer } from '../../src/ipc/preload.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { KEY } from './happy-path.js';

const TOKEN = 'a-token-of-at-least-16-characters';

let runtime: SessionRuntime;
let server: { url: string; close(): Promise<void> };
let id: string;
let ways: Record<string, SessionAPI>;

beforeEach(async () => {
  runtime = await createSessionRuntime({ root: await tempRoot() });
  id = (await runtime.createSession(KEY)).id;
  await runtime.addMessage(id, { role: 'user', content: 'hello' });
  const handlers = createSessionHandlers(runtime);
  server = await serveSessions(runtime, { token: TOKEN });
  ways = {
    'Electron IPC': createSessionApiFromInvoke(
      async (channel, ...args) => structuredClone(await handlers[channel](...structuredClone(args))),
      (deliver) => runtime.subscribe(deliver),
    ),
    HTTP: createSessionClient(server.url, { token: TOKEN }),
  };
});

afterEach(async () => {
  await server.close();
  await runtime.close();
});

async function outcome(
  call: () => Promise<unknown>,
): Promise<{ ok: boolean; code?: string; message?: string }> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { ok: false, code: e.code, message: e.message };
  }
}

describe('session:reopen', () => {
  it('answers the session as loaded again, with its messages, over Electron IPC and HTTP', async () => {
    for (const [way, api] of Object.entries(ways)) {
      const info = await api.reopen(id);
      expect({ way, ...info }).toMatchObject({ way, id, key: KEY, liveMessages: 1, error: null });
      expect((await api.getMessages(id)).map((m) => m.content)).toEqual(['hello']);
    }
  });

  it('refuses a wrong id (INVALID_KEY), an unknown one (SESSION_NOT_FOUND) and more arguments', async () => {
    for (const [way, api] of Object.entries(ways)) {
      const unsafe = await outcome(() => api.reopen('../etc'));
      expect({ way, ...unsafe }).toMatchObject({ way, ok: false, code: 'INVALID_KEY' });
      expect(unsafe.message).toContain('session:reopen: argument 1 (id)');
      expect({ way, ...(await outcome(() => api.reopen(42 as never))) }).toMatchObject({
        way,
        ok: false,
        code: 'INVALID_KEY',
      });
      const missing = await outcome(() => api.reopen('feature--missing--pm'));
      expect({ way, ...missing }).toMatchObject({ way, ok: false, code: 'SESSION_NOT_FOUND' });
    }
    // No options: a second argument is refused, saying how to call it.
    const handlers = createSessionHandlers(runtime);
    expect(await handlers['session:reopen'](id, { force: true })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('call it as session:reopen(id)') },
    });
    const http = await fetch(`${server.url}/rpc/session:reopen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify([id, { force: true }]),
    });
    expect(http.status).toBe(400);
    expect(await http.json()).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('session:reopen(id)') },
    });
  });

  it('is behind the token over HTTP and allowSender over Electron IPC, as every write', async () => {
    const unguarded = await fetch(`${server.url}/rpc/session:reopen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([id]),
    });
    expect(unguarded.status).toBe(401);
    expect(await outcome(() => createSessionClient(server.url).reopen(id))).toMatchObject({
      ok: false,
      code: 'UNAUTHORIZED',
    });

    const handles = new Map<string, (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown>();
    const ipcMain: IpcMainLike = {
      handle: (channel, listener) => void handles.set(channel, listener),
      removeHandler: (channel) => void handles.delete(channel),
    };
    const unregister = registerSessionIpc(ipcMain, runtime, {
      allowSender: (e) => e.senderFrame?.url.startsWith('app://') === true,
    });
    const page = (url: string) =>
      createSessionApiFromIpcRenderer({
        invoke: async (channel, ...args) =>
          structuredClone(
            await handles.get(channel)!(
              { sender: { send() {} }, senderFrame: { url } },
              ...structuredClone(args),
            ),
          ),
        on: () => undefined,
        removeListener: () => undefined,
      });
    expect(await outcome(() => page('https://evil.example').reopen(id))).toMatchObject({
      ok: false,
      code: 'UNAUTHORIZED',
    });
    expect(await page('app://index.html').reopen(id)).toMatchObject({ id, error: null });
    unregister();
  });
});
