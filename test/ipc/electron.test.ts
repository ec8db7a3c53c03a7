/**
 * The Electron binding against an in-process ipcMain / ipcRenderer pair with Electron's contract:
 * `invoke` reaches the `handle` listener of its channel (arguments and results structured-cloned,
 * "No handler registered" otherwise), `webContents.send` reaches the renderer's `on` listeners,
 * and `contextBridge` copies an error's message only.
 */
import { describe, expect, it, vi } from 'vitest';
import { ipcErrorCodeOf, SESSION_CHANNELS, type SessionAPI } from '../../src/ipc/channels.js';
import { registerSessionIpc, type IpcMainInvokeEventLike, type IpcMainLike } from '../../src/ipc/electron.js';
import {
  createSessionApiFromIpcRenderer,
  exposeSessionApi,
  type IpcRendererLike,
} from '../../src/ipc/preload.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { tempRoot } from '../helpers/temp-root.js';
import { KEY, walkEveryChannel, walkRuntime } from './happy-path.js';

type Listener = (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown;

function fakeElectron() {
  const handles = new Map<string, Listener>();
  const ipcMain: IpcMainLike = {
    handle(channel, listener) {
      if (handles.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handles.set(channel, listener as Listener);
    },
    removeHandler: (channel) => void handles.delete(channel),
  };

  function renderer(url = 'app://index.html') {
    const on = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
    let destroyed = false;
    const onDestroyed: Array<() => void> = [];
    const webContents = {
      sent: 0,
      send(channel: string, ...args: unknown[]) {
        if (destroyed) throw new TypeError('Object has been destroyed');
        webContents.sent++;
        for (const listener of on.get(channel) ?? [])
          listener({ sender: 'ipcRenderer' }, ...structuredClone(args));
      },
      isDestroyed: () => destroyed,
      once: (_event: 'destroyed', listener: () => void) => void onDestroyed.push(listener),
    };
    const ipcRenderer: IpcRendererLike = {
      async invoke(channel: string, ...args: unknown[]) {
        const listener = handles.get(channel);
        if (!listener)
          throw new Error(
            `Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`,
          );
        return structuredClone(
          await listener({ sender: webContents, senderFrame: { url } }, ...structuredClone(args)),
        );
      },
      on(channel: string, listener: (event: unknown, ...args: unknown[]) => void) {
        on.set(channel, (on.get(channel) ?? new Set()).add(listener));
        return ipcRenderer;
      },
      removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void) {
        on.get(channel)?.delete(listener);
        return ipcRenderer;
      },
    };
    const destroy = () => {
      destroyed = true;
      onDestroyed.forEach((f) => f());
    };
    return { ipcRenderer, webContents, destroy, listening: () => on.get('session:event')?.size ?? 0 };
  }
  return { ipcMain, handles, renderer };
}

/** What the page sees through contextBridge: values copied, a rejected error reduced to its message. */
function fakeContextBridge() {
  const world: Record<string, unknown> = {};
  return {
    world,
    exposeInMainWorld(name: string, api: Record<string, unknown>) {
      const copy: Record<string, unknown> = {};
      for (const [key, fn] of Object.entries(api)) {
        copy[key] = (...args: unknown[]) => {
          const result = (fn as (...a: unknown[]) => unknown)(...args);
          return result instanceof Promise
            ? result.then(
                (v) => (v === undefined ? v : structuredClone(v)),
                (e: unknown) => Promise.reject(new Error((e as Error).message)),
              )
            : result;
        };
      }
      world[name] = copy;
    },
  };
}

const nextEvent = (api: SessionAPI, type: SessionEvent['type']) =>
  new Promise<SessionEvent>((resolve) => {
    const stop = api.onEvent((e) => {
      if (e.type !== type) return;
      stop();
      resolve(e);
    });
  });

describe('registerSessionIpc + exposeSessionApi', () => {
  it('serves every channel to the page through contextBridge', async () => {
    const walk = await walkRuntime();
    const runtime = walk.runtime;
    const electron = fakeElectron();
    const unregister = registerSessionIpc(electron.ipcMain, runtime);
    expect([...electron.handles.keys()].sort()).toEqual(
      [...SESSION_CHANNELS, 'session:subscribe', 'session:unsubscribe'].sort(),
    );
    const bridge = fakeContextBridge();
    exposeSessionApi(bridge, electron.renderer().ipcRenderer);
    await walkEveryChannel(bridge.world.dagentSessions as SessionAPI);
    unregister();
    await walk.close();
  });

  it('brings an error to the renderer as an Error with .code, and its code through contextBridge', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const electron = fakeElectron();
    registerSessionIpc(electron.ipcMain, runtime);
    const { ipcRenderer } = electron.renderer();
    const api = createSessionApiFromIpcRenderer(ipcRenderer);
    const error = await api.get('feature--missing--pm').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code: 'SESSION_NOT_FOUND',
      message: expect.stringMatching(/^SESSION_NOT_FOUND: \[dagent-sessions\] \[runtime\] no session/),
    });
    await expect(api.create({ ...KEY, featureId: '../etc' })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    // Electron cannot clone a function: refused in the renderer, never sent.
    await expect(api.setContext('feature--missing--pm', { f: () => 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/cannot be sent/),
    });

    const bridge = fakeContextBridge();
    const page = (exposeSessionApi(bridge, ipcRenderer, 'sessions'), bridge.world.sessions as SessionAPI);
    const copied = await page
      .addMessage('feature--missing--pm', { role: 'robot' } as never)
      .catch((e: unknown) => e);
    expect((copied as { code?: unknown }).code).toBeUndefined(); // what contextBridge does to errors
    expect(ipcErrorCodeOf(copied)).toBe('INVALID_MESSAGE');
    await runtime.close();
  });

  it('sends events to subscribed pages and to getWindows, and forgets destroyed ones', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const electron = fakeElectron();
    const watcher = electron.renderer();
    registerSessionIpc(electron.ipcMain, runtime, {
      getWindows: () => [{ webContents: watcher.webContents }],
    });
    const a = electron.renderer();
    const idle = electron.renderer();
    const api = createSessionApiFromIpcRenderer(a.ipcRenderer);
    const seen: SessionEvent[] = [];
    const stop = api.onEvent((e) => seen.push(e));
    const created = nextEvent(api, 'session.created');
    const { id } = await api.create(KEY);
    expect(await created).toMatchObject({ type: 'session.created', sessionId: id, key: KEY });
    await api.addMessage(id, { role: 'user', content: 'hello '.repeat(200) });
    await api.addMessage(id, { role: 'assistant', content: 'hi '.repeat(200) });
    const completed = nextEvent(api, 'session.compaction.completed');
    const result = await api.compact(id, { keepRecentTokens: 0 });
    expect(await completed).toMatchObject({
      sessionId: id,
      checkpointVersion: result.checkpointVersion,
      messagesCompacted: result.messagesCompacted,
    });
    expect(seen.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'session.created',
        'session.message.appended',
        'session.compaction.started',
        'session.compaction.completed',
      ]),
    );
    expect(watcher.webContents.sent).toBeGreaterThanOrEqual(seen.length);
    expect(idle.webContents.sent).toBe(0);

    stop();
    // The unsubscribe is an invoke: wait until the main side has handled it.
    await vi.waitFor(() => expect(a.listening()).toBe(0), { timeout: 30_000 });
    const sentBefore = a.webContents.sent;
    await api.addMessage(id, { role: 'user', content: 'after' });
    expect(a.webContents.sent).toBe(sentBefore);

    watcher.destroy();
    await api.addMessage(id, { role: 'user', content: 'after the window closed' }); // send would throw: not attempted
    await runtime.close();
  });

  it('refuses senders that allowSender rejects, and unregisters every handler', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const electron = fakeElectron();
    const unregister = registerSessionIpc(electron.ipcMain, runtime, {
      allowSender: (e) => e.senderFrame?.url.startsWith('app://') === true,
    });
    expect(() => registerSessionIpc(electron.ipcMain, runtime)).toThrow(
      /could not handle session:create.*second handler/,
    );
    expect(electron.handles.size).toBe(SESSION_CHANNELS.length + 2); // the first registration is intact
    const outsider = createSessionApiFromIpcRenderer(electron.renderer('https://evil.example').ipcRenderer);
    await expect(outsider.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const app = electron.renderer();
    const api = createSessionApiFromIpcRenderer(app.ipcRenderer);
    expect(await api.list()).toEqual([]);
    api.onEvent(() => undefined);
    await new Promise((r) => setTimeout(r, 10));

    unregister();
    unregister();
    expect(electron.handles.size).toBe(0);
    await expect(api.list()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/No handler registered/),
    });
    await runtime.createSession(KEY);
    expect(app.webContents.sent).toBe(0); // events no longer forwarded
    expect(() => registerSessionIpc({} as IpcMainLike, runtime)).toThrow(/needs Electron's ipcMain/);
    await runtime.close();
  });
});
