/**
 * The Electron main-process binding: the handler table on `ipcMain.handle`, and runtime events
 * sent to the renderers that asked for them. Electron is not a dependency: the `*Like` types
 * below are the parts of Electron's own `IpcMain`, `IpcMainInvokeEvent` and `WebContents` types
 * (electron.d.ts) that this binding uses, so Electron's objects can be passed as they are.
 */
import { SessionError, describeError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { SessionEvent } from '../runtime/events.js';
import type { SessionRuntime } from '../runtime/types.js';
import {
  SESSION_CHANNELS,
  SESSION_EVENT_CHANNEL,
  SESSION_SUBSCRIBE_CHANNEL,
  SESSION_UNSUBSCRIBE_CHANNEL,
  type IpcResult,
} from './channels.js';
import { createSessionHandlers } from './handlers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the same signatures as electron.d.ts */

/**
 * The part of Electron's `WebContents` used here: `send`, and `isDestroyed` / `once('destroyed')`
 * to forget closed windows.
 * @example const wc: WebContentsLike = browserWindow.webContents;
 */
export interface WebContentsLike {
  send(channel: string, ...args: any[]): void;
  isDestroyed?(): boolean;
  once?(event: 'destroyed', listener: () => void): unknown;
}

/**
 * The part of Electron's `IpcMainInvokeEvent` used here.
 * @example const allow = (event: IpcMainInvokeEventLike) => event.senderFrame?.url.startsWith('app://') ?? false;
 */
export interface IpcMainInvokeEventLike {
  sender: WebContentsLike;
  readonly senderFrame?: { url: string } | null;
}

/**
 * The part of Electron's `IpcMain` used here: `handle` and `removeHandler`.
 * @example import { ipcMain } from 'electron'; const main: IpcMainLike = ipcMain;
 */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: IpcMainInvokeEventLike, ...args: any[]) => Promise<any> | any,
  ): void;
  removeHandler(channel: string): void;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Options of {@link registerSessionIpc}.
 * @example
 * const options: SessionIpcOptions = {
 *   getWindows: () => BrowserWindow.getAllWindows(),
 *   allowSender: (e) => e.senderFrame?.url.startsWith('app://') ?? false,
 * };
 */
export interface SessionIpcOptions {
  /**
   * Windows that receive every event, whether or not their page subscribed, for example
   * `() => BrowserWindow.getAllWindows()`. Pages that call `onEvent` receive events anyway.
   */
  getWindows?: () => Iterable<{ webContents: WebContentsLike }>;
  /**
   * Decides whether a call is served, for example by `event.senderFrame.url`; a refused call is
   * answered `UNAUTHORIZED`. Default: every renderer that can reach the channels is served.
   */
  allowSender?: (event: IpcMainInvokeEventLike) => boolean;
}

const IPC_OPTIONS = optionNames({
  getWindows: true,
  allowSender: true,
} satisfies Record<keyof SessionIpcOptions, true>);

/**
 * Serves a session runtime to Electron renderers: `ipcMain.handle` for every channel of
 * {@link createSessionHandlers} (answers are {@link IpcResult} envelopes, never exceptions), plus
 * `session:subscribe` / `session:unsubscribe`, after which the runtime's events reach the
 * subscribing page on `session:event`. Use `exposeSessionApi` in the preload for the typed API.
 *
 * @param ipcMain - Electron's `ipcMain` (or anything with the same `handle` / `removeHandler`).
 * @param runtime - The runtime to serve; closing it stays the caller's job.
 * @param options - `getWindows` to push events to windows; `allowSender` to refuse some senders.
 * @returns A function that removes every handler and stops forwarding events (idempotent).
 * @throws SessionError `INVALID_ARGUMENT` when `ipcMain` or `runtime` is not usable, for a name
 *   none of its options, or when a channel already has a handler (an earlier registration not undone).
 * @example
 * ```ts
 * import { app, BrowserWindow, ipcMain } from 'electron';
 * const runtime = await createSessionRuntime({ root: app.getPath('userData') });
 * const unregister = registerSessionIpc(ipcMain, runtime);
 * app.on('will-quit', () => { unregister(); void runtime.close(); });
 * ```
 */
export function registerSessionIpc(
  ipcMain: IpcMainLike,
  runtime: SessionRuntime,
  options: SessionIpcOptions = {},
): () => void {
  if (typeof ipcMain?.handle !== 'function' || typeof ipcMain.removeHandler !== 'function') {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      "registerSessionIpc needs Electron's ipcMain (an object with handle and removeHandler)",
    );
  }
  if (typeof runtime?.subscribe !== 'function') {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'registerSessionIpc needs a runtime made by createSessionRuntime',
    );
  }
  // A misspelt `allowSendr` would serve every renderer: the filter the host meant would not apply.
  checkOptionNames(
    options,
    IPC_OPTIONS,
    (message) => new SessionError('INVALID_ARGUMENT', 'runtime', `registerSessionIpc: ${message}`),
  );
  const handlers = createSessionHandlers(runtime);
  const subscribers = new Set<WebContentsLike>();
  const watched = new WeakSet<WebContentsLike>();
  const refused: IpcResult<never> = {
    ok: false,
    error: {
      code: 'UNAUTHORIZED',
      message:
        '[dagent-sessions] [runtime] this page may not use the session channels (refused by allowSender)',
      retryable: false,
    },
  };
  const allowed = (event: IpcMainInvokeEventLike): boolean => {
    try {
      return options.allowSender ? options.allowSender(event) === true : true;
    } catch {
      return false;
    }
  };

  const registered: string[] = [];
  const register = (
    channel: string,
    serve: (event: IpcMainInvokeEventLike, args: unknown[]) => Promise<IpcResult> | IpcResult,
  ) => {
    try {
      ipcMain.handle(channel, (event, ...args: unknown[]) => (allowed(event) ? serve(event, args) : refused));
    } catch (error) {
      for (const done of registered) ipcMain.removeHandler(done);
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `registerSessionIpc could not handle ${channel} (${describeError(error)}); ` +
          `call the function an earlier registerSessionIpc returned first`,
        { cause: error },
      );
    }
    registered.push(channel);
  };

  for (const channel of SESSION_CHANNELS) register(channel, (_event, args) => handlers[channel](...args));
  register(SESSION_SUBSCRIBE_CHANNEL, (event) => {
    const sender = event.sender;
    subscribers.add(sender);
    if (!watched.has(sender)) {
      watched.add(sender);
      sender.once?.('destroyed', () => subscribers.delete(sender));
    }
    return { ok: true, value: null };
  });
  register(SESSION_UNSUBSCRIBE_CHANNEL, (event) => {
    subscribers.delete(event.sender);
    return { ok: true, value: null };
  });

  const forward = (event: SessionEvent) => {
    const targets = new Set(subscribers);
    try {
      for (const window of options.getWindows?.() ?? []) targets.add(window.webContents);
    } catch (error) {
      console.error(
        '[dagent-sessions] [runtime] getWindows threw; events go to subscribed pages only:',
        error,
      );
    }
    for (const target of targets) {
      try {
        if (target.isDestroyed?.() === true) subscribers.delete(target);
        else target.send(SESSION_EVENT_CHANNEL, event);
      } catch {
        subscribers.delete(target); // a window closing under us: forget it
      }
    }
  };
  const unsubscribe = runtime.subscribe(forward);

  let done = false;
  return () => {
    if (done) return;
    done = true;
    unsubscribe();
    subscribers.clear();
    for (const channel of registered) ipcMain.removeHandler(channel);
  };
}
