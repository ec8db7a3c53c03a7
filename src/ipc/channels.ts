/**
 * The IPC contract shared by every transport: channel names, and (re-exported from their own
 * modules) the result envelope, the error a caller sees (`ipc-error.ts`), and the typed
 * {@link SessionAPI} that the Electron preload and the HTTP client both implement (`session-api.ts`).
 */
import type { SessionAPI } from './session-api.js';

export {
  SessionIpcError,
  ipcErrorCodeOf,
  type IpcError,
  type IpcErrorCode,
  type IpcResult,
  type TransportErrorCode,
} from './ipc-error.js';
export type { IpcMigrateOptions, IpcSendOptions, RecentMessagesOptions, SessionAPI } from './session-api.js';

/**
 * Every request channel, in the order of the session's life. A channel is `session:<method>`,
 * where `<method>` is the {@link SessionAPI} method that calls it.
 *
 * @example
 * ```ts
 * for (const channel of SESSION_CHANNELS) ipcMain.handle(channel, ...);
 * ```
 */
export const SESSION_CHANNELS = [
  'session:create',
  'session:get',
  'session:reopen',
  'session:list',
  'session:addMessage',
  'session:getMessages',
  'session:getHistory',
  'session:getCheckpoint',
  'session:getCheckpointVersions',
  'session:estimateSize',
  'session:buildRequest',
  'session:previewRequest',
  'session:compact',
  'session:cancelCompaction',
  'session:clearMessages',
  'session:reset',
  'session:export',
  'session:archive',
  'session:setContext',
  'session:setAgentDescription',
  'session:getContext',
  'session:getAgentDescription',
  'session:recordChecks',
  'session:editCheckpoint',
  'session:recordDecision',
  'session:send',
  'session:getRecentMessages',
  'session:getMetrics',
  'session:getRuntimeMetrics',
  'session:migrate',
] as const;

/**
 * One request channel, such as `session:addMessage`.
 * @example const channel: SessionChannel = 'session:getMessages';
 */
export type SessionChannel = (typeof SESSION_CHANNELS)[number];

/**
 * The channel on which runtime events reach renderers (Electron) and the SSE name of each
 * event (HTTP).
 * @example ipcRenderer.on(SESSION_EVENT_CHANNEL, (_e, event) => console.log(event.type));
 */
export const SESSION_EVENT_CHANNEL = 'session:event';

/**
 * Electron only: a renderer invokes this to start receiving {@link SESSION_EVENT_CHANNEL}
 * messages, and {@link SESSION_UNSUBSCRIBE_CHANNEL} to stop. The preload API does it for you.
 * @example await ipcRenderer.invoke(SESSION_SUBSCRIBE_CHANNEL);
 */
export const SESSION_SUBSCRIBE_CHANNEL = 'session:subscribe';

/**
 * Electron only: stops the events started by {@link SESSION_SUBSCRIBE_CHANNEL}.
 * @example await ipcRenderer.invoke(SESSION_UNSUBSCRIBE_CHANNEL);
 */
export const SESSION_UNSUBSCRIBE_CHANNEL = 'session:unsubscribe';

/**
 * Whether `value` names a request channel.
 * @example isSessionChannel('session:get') // true
 */
export function isSessionChannel(value: unknown): value is SessionChannel {
  return typeof value === 'string' && (SESSION_CHANNELS as readonly string[]).includes(value);
}

/**
 * The {@link SessionAPI} method that calls a channel: `session:addMessage` → `addMessage`.
 * @example methodOf('session:export') // 'export'
 */
export function methodOf(channel: SessionChannel): Exclude<keyof SessionAPI, 'onEvent'> {
  return channel.slice('session:'.length) as Exclude<keyof SessionAPI, 'onEvent'>;
}
