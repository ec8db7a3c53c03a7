/**
 * The Electron preload side: the typed {@link SessionAPI} over `ipcRenderer`, exposed to the page
 * with `contextBridge`. Imports nothing from Node or Electron, so it can be bundled into a
 * sandboxed preload script. The `*Like` types are the parts of Electron's `ContextBridge` and
 * `IpcRenderer` (electron.d.ts) that it uses.
 */
import type { SessionEvent } from '../runtime/events.js';
import { createSessionApiFromInvoke, type EventFeed } from './api.js';
import {
  SESSION_EVENT_CHANNEL,
  SESSION_SUBSCRIBE_CHANNEL,
  SESSION_UNSUBSCRIBE_CHANNEL,
  type SessionAPI,
} from './channels.js';

export { createSessionApiFromInvoke } from './api.js';
export type { EventFeed, InvokeChannel } from './api.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the same signatures as electron.d.ts */

/**
 * The part of Electron's `IpcRenderer` used here.
 * @example import { ipcRenderer } from 'electron'; const r: IpcRendererLike = ipcRenderer;
 */
export interface IpcRendererLike {
  invoke(channel: string, ...args: any[]): Promise<any>;
  on(channel: string, listener: (event: any, ...args: any[]) => void): unknown;
  removeListener(channel: string, listener: (event: any, ...args: any[]) => void): unknown;
}

/**
 * The part of Electron's `ContextBridge` used here.
 * @example import { contextBridge } from 'electron'; const b: ContextBridgeLike = contextBridge;
 */
export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: any): void;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * The {@link SessionAPI} over Electron's `ipcRenderer`: each method is an `invoke` of its channel
 * (served by `registerSessionIpc` in the main process); `onEvent` listens on `session:event` and
 * invokes `session:subscribe` while at least one listener is registered.
 *
 * @param ipcRenderer - Electron's `ipcRenderer` (or anything with `invoke`, `on`, `removeListener`).
 * @returns The API; its methods reject with `SessionIpcError` (`.code`, and the code at the start of the message).
 * @example
 * ```ts
 * const api = createSessionApiFromIpcRenderer(ipcRenderer);
 * const messages = await api.getMessages('feature--f1--pm');
 * ```
 */
export function createSessionApiFromIpcRenderer(ipcRenderer: IpcRendererLike): SessionAPI {
  const feed: EventFeed = (deliver) => {
    // Only the event crosses to the page, never Electron's event object (it holds `sender`).
    const listener = (_event: unknown, payload: unknown) => deliver(payload as SessionEvent);
    ipcRenderer.on(SESSION_EVENT_CHANNEL, listener);
    ipcRenderer.invoke(SESSION_SUBSCRIBE_CHANNEL).catch((error: unknown) => {
      console.error(
        '[dagent-sessions] [runtime] could not subscribe to session events; ' +
          'is registerSessionIpc called in the main process?',
        error,
      );
    });
    return () => {
      ipcRenderer.removeListener(SESSION_EVENT_CHANNEL, listener);
      ipcRenderer.invoke(SESSION_UNSUBSCRIBE_CHANNEL).catch(() => undefined);
    };
  };
  return createSessionApiFromInvoke(
    (channel, ...args) => ipcRenderer.invoke(channel, ...args) as Promise<unknown>,
    feed,
  );
}

/**
 * Exposes the {@link SessionAPI} to the page as `window[name]`. Call it in the preload script.
 * `contextBridge` copies errors with their message only: read a failure's code with
 * `ipcErrorCodeOf(error)` (the message starts with it), not `error.code`.
 *
 * @param contextBridge - Electron's `contextBridge`.
 * @param ipcRenderer - Electron's `ipcRenderer`.
 * @param name - The global the page sees; default `dagentSessions`.
 * @returns The API as exposed (also usable in the preload itself).
 * @throws What `contextBridge.exposeInMainWorld` throws (for example when context isolation is
 *   off, or the name is taken).
 * @example
 * ```ts
 * // preload.ts (bundled)
 * import { contextBridge, ipcRenderer } from 'electron';
 * import { exposeSessionApi } from 'dagent-sessions/preload';
 * exposeSessionApi(contextBridge, ipcRenderer);
 * // page: const info = await window.dagentSessions.get('feature--f1--pm');
 * ```
 */
export function exposeSessionApi(
  contextBridge: ContextBridgeLike,
  ipcRenderer: IpcRendererLike,
  name = 'dagentSessions',
): SessionAPI {
  const api = createSessionApiFromIpcRenderer(ipcRenderer);
  contextBridge.exposeInMainWorld(name, api);
  return api;
}
