/**
 * The {@link SessionAPI} built from two functions any transport can supply: one that invokes a
 * channel and resolves to its envelope, and one that delivers runtime events. The Electron preload
 * and the HTTP client are both this, over different wires.
 */
import { callListener, listenerErrorLog } from '../core/call-listener.js';
import type { SessionEvent } from '../runtime/events.js';
import type { HistoryQuery } from '../runtime/history.js';
import { SessionIpcError, type IpcResult, type SessionAPI, type SessionChannel } from './channels.js';

/**
 * Invokes a channel with its arguments and resolves to the handler's {@link IpcResult}, as
 * `ipcRenderer.invoke` does. It may reject for a transport failure (wrapped as `CONNECTION_FAILED`
 * unless it is already a {@link SessionIpcError}).
 * @example const invoke: InvokeChannel = (channel, ...args) => ipcRenderer.invoke(channel, ...args);
 */
export type InvokeChannel = (channel: SessionChannel, ...args: unknown[]) => Promise<unknown>;

/**
 * Starts delivering runtime events to `deliver` and returns the function that stops it. Called
 * once when the first listener subscribes, and its stop function once the last one leaves.
 * @example const on: EventFeed = (deliver) => { bus.on('e', deliver); return () => bus.off('e', deliver); };
 */
export type EventFeed = (deliver: (event: SessionEvent) => void) => () => void;

function isEnvelope(value: unknown): value is IpcResult {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  return (
    v.ok === true ||
    (v.ok === false && typeof v.error?.code === 'string' && typeof v.error.message === 'string')
  );
}

/**
 * @internal Invokes a channel and unwraps its envelope: the value, or a thrown {@link SessionIpcError}.
 */
export async function callChannel(
  invoke: InvokeChannel,
  channel: SessionChannel,
  args: unknown[],
): Promise<unknown> {
  // JSON has no undefined, and a handler counts its arguments: trailing left-out ones are dropped.
  const trimmed = [...args];
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === undefined) trimmed.pop();
  let result: unknown;
  try {
    result = await invoke(channel, ...trimmed);
  } catch (error) {
    if (error instanceof SessionIpcError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    if (
      (error as { name?: unknown } | null)?.name === 'DataCloneError' ||
      /could not be cloned/i.test(reason)
    ) {
      // Electron structured-clones arguments: functions, symbols and some class instances cannot cross.
      throw new SessionIpcError(
        {
          code: 'INVALID_ARGUMENT',
          message: `[dagent-sessions] [runtime] ${channel}: the arguments cannot be sent (${reason}); pass plain data`,
          retryable: false,
        },
        { cause: error },
      );
    }
    throw new SessionIpcError(
      {
        code: 'CONNECTION_FAILED',
        message: `[dagent-sessions] [runtime] ${channel} did not reach the session runtime: ${reason}`,
        retryable: true,
      },
      { cause: error },
    );
  }
  if (!isEnvelope(result)) {
    throw new SessionIpcError({
      code: 'INTERNAL_ERROR',
      message:
        `[dagent-sessions] [runtime] ${channel} answered something that is not ` +
        `a result envelope; are both sides the same dagent-sessions version?`,
      retryable: false,
    });
  }
  if (!result.ok)
    throw new SessionIpcError({
      code: result.error.code,
      message: result.error.message,
      retryable: result.error.retryable === true,
      ...(isPlainRecord(result.error.details) ? { details: result.error.details } : {}),
    });
  return result.value;
}

/**
 * Builds the {@link SessionAPI} over any transport. Each method invokes its channel, drops
 * trailing `undefined` arguments, and resolves to the envelope's value or throws a
 * {@link SessionIpcError} carrying the envelope's code and message. `onEvent` listeners share
 * one feed, started by the first and stopped after the last; a listener that throws is reported
 * with `console.error` (the same error again only at its 10th, 100th... time) and does not
 * disturb the others.
 *
 * @param invoke - Calls a channel and resolves to its envelope (`ipcRenderer.invoke`, an HTTP POST...).
 * @param on - Starts the event feed and returns its stop function.
 * @returns A plain object of functions (safe to hand to `contextBridge.exposeInMainWorld`).
 * @throws Nothing itself; its methods reject with {@link SessionIpcError}.
 * @example
 * ```ts
 * const handlers = createSessionHandlers(runtime);
 * const api = createSessionApiFromInvoke(
 *   (channel, ...args) => handlers[channel](...args),
 *   (deliver) => runtime.subscribe(deliver),
 * );
 * const info = await api.create({ type: 'feature', agentType: 'pm', featureId: 'f1' });
 * ```
 */
export function createSessionApiFromInvoke(invoke: InvokeChannel, on: EventFeed): SessionAPI {
  const call = (channel: SessionChannel, ...args: unknown[]) =>
    callChannel(invoke, channel, args) as Promise<never>;
  const listeners = new Set<(event: SessionEvent) => void>();
  let stop: (() => void) | null = null;
  const onListenerError = listenerErrorLog('an onEvent listener');
  const deliver = (event: SessionEvent) => {
    for (const listener of [...listeners]) callListener(listener, event, onListenerError);
  };
  return {
    create: (key, options) => call('session:create', key, options),
    get: (id) => call('session:get', id),
    reopen: (id) => call('session:reopen', id),
    list: () => call('session:list'),
    addMessage: (id, message) => call('session:addMessage', id, message),
    getMessages: (id) => call('session:getMessages', id),
    getHistory: (id: string, query?: HistoryQuery) =>
      query === undefined ? call('session:getHistory', id) : call('session:getHistory', id, query),
    getCheckpoint: (id, options) =>
      options === undefined ? call('session:getCheckpoint', id) : call('session:getCheckpoint', id, options),
    getCheckpointVersions: (id) => call('session:getCheckpointVersions', id),
    estimateSize: (id) => call('session:estimateSize', id),
    buildRequest: (id, userMessage, options) => call('session:buildRequest', id, userMessage, options),
    previewRequest: (id, userMessage, options) => call('session:previewRequest', id, userMessage, options),
    compact: (id, options) => call('session:compact', id, options),
    cancelCompaction: (id) => call('session:cancelCompaction', id),
    clearMessages: (id, options) => call('session:clearMessages', id, options),
    reset: (id) => call('session:reset', id),
    export: (id) => call('session:export', id),
    archive: (id) => call('session:archive', id),
    setContext: async (id, context) => {
      await call('session:setContext', id, context);
    },
    setAgentDescription: async (id, description) => {
      await call('session:setAgentDescription', id, description);
    },
    getContext: (id) => call('session:getContext', id),
    getAgentDescription: (id) => call('session:getAgentDescription', id),
    recordChecks: (id, checks) => call('session:recordChecks', id, checks),
    editCheckpoint: (id, edit) => call('session:editCheckpoint', id, edit),
    recordDecision: (id, decision) => call('session:recordDecision', id, decision),
    send: (id, userMessage, options) => call('session:send', id, userMessage, options),
    // A limit left out before given options crosses as null (JSON has no undefined).
    getRecentMessages: (id, limit, options) =>
      call('session:getRecentMessages', id, options === undefined ? limit : (limit ?? null), options),
    getMetrics: (id) => call('session:getMetrics', id),
    getRuntimeMetrics: () => call('session:getRuntimeMetrics'),
    migrate: (options) => call('session:migrate', options),
    onEvent(listener) {
      if (typeof listener !== 'function') {
        throw new SessionIpcError({
          code: 'INVALID_ARGUMENT',
          message: '[dagent-sessions] [runtime] onEvent needs a function (event) => void',
          retryable: false,
        });
      }
      const entry = (event: SessionEvent) => listener(event); // the same function may subscribe twice
      listeners.add(entry);
      if (stop === null) stop = on(deliver);
      return () => {
        if (!listeners.delete(entry) || listeners.size > 0 || stop === null) return;
        const stopFeed = stop;
        stop = null;
        stopFeed();
      };
    },
  };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
