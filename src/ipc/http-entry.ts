/**
 * `dagent-sessions/http`: the session API over HTTP with Server-Sent Events, and the inspector
 * page beside it. `serveSessions(runtime, { page })` serves a runtime (loopback by default, a
 * token anywhere else); `createSessionClient(url)` is the same typed `SessionAPI` on the other
 * side; `createInspectorHandler(await loadInspectorAssets())` is the page, `serveInspector` serves
 * it for a host elsewhere; `advertiseHost(root, url)` tells command-line tools where the holder of
 * a root serves it.
 */
export { serveSessions } from './http.js';
export type { ServeSessionsOptions, SessionServer } from './http.js';
export { createSessionClient } from './client.js';
export type { SessionClient, SessionClientOptions } from './client.js';
export { advertiseHost } from './host-file.js';
export type { HostFile } from './host-file.js';
export { SessionIpcError, ipcErrorCodeOf } from './channels.js';
export type { IpcError, IpcErrorCode, SessionAPI } from './channels.js';
export { createInspectorHandler } from '../inspector/page-handler.js';
export type { PageHandler } from '../inspector/page-handler.js';
export { loadInspectorAssets } from '../inspector/bundle.js';
export type { InspectorAssets } from '../inspector/bundle.js';
export { serveInspector } from '../inspector/serve-inspector.js';
export type { ServeInspectorOptions } from '../inspector/serve-inspector.js';
