/**
 * `dagent-sessions/ipc`: the session API as one table of `session:*` channels, and its Electron
 * binding. `createSessionHandlers(runtime)` validates arguments and answers envelopes;
 * `registerSessionIpc(ipcMain, runtime)` puts the table on Electron IPC in the main process; the
 * preload side is `dagent-sessions/preload`, HTTP is `dagent-sessions/http`.
 */
export {
  SESSION_CHANNELS,
  SESSION_EVENT_CHANNEL,
  SESSION_SUBSCRIBE_CHANNEL,
  SESSION_UNSUBSCRIBE_CHANNEL,
  SessionIpcError,
  ipcErrorCodeOf,
  isSessionChannel,
  methodOf,
} from './channels.js';
export type {
  IpcError,
  IpcErrorCode,
  IpcMigrateOptions,
  IpcResult,
  IpcSendOptions,
  SessionAPI,
  SessionChannel,
  TransportErrorCode,
} from './channels.js';
export {
  DEFAULT_RECENT_MESSAGES,
  getRecentMessages,
  runtimeMetrics,
  sessionMetrics,
} from './session-queries.js';
export type { RuntimeMetrics, SessionMetrics } from './session-queries.js';
export { createSessionHandlers, handlerOf, toIpcError } from './handlers.js';
export type { ChannelResult, SessionHandler, SessionHandlers } from './handlers.js';
export { createSessionApiFromInvoke } from './api.js';
export type { EventFeed, InvokeChannel } from './api.js';
export { registerSessionIpc } from './electron.js';
export type { IpcMainInvokeEventLike, IpcMainLike, SessionIpcOptions, WebContentsLike } from './electron.js';
