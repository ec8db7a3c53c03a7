/**
 * `dagent-sessions/restate`: sessions on Restate (docs/restate.md). The `session` virtual object
 * (the store contract on keyed state), the compaction workflow, conversation turns and the event
 * feed (`restateServices`); the store and the SessionAPI over the ingress
 * (`createRestateSessionStore`, `createRestateSessionClient`); a local restate-server from
 * node_modules on loopback (`startLocalRestateServer`), a service endpoint
 * (`serveRestateEndpoint`) and registration through the admin API (`registerDeployment`).
 * Needs the optional peers `@restatedev/restate-sdk` (and, to start a server,
 * `@restatedev/restate-server`). On Node 20 it installs `Promise.withResolvers`, which the SDK uses.
 */
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';

ensurePromiseWithResolvers();

export { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
export { freeLoopbackPorts } from './loopback-ports.js';
export { resolveRestateServerBinary } from './server-binary.js';
export type { RestateServerBinary } from './server-binary.js';
export { createLocalRestateServer, startLocalRestateServer } from './local-server.js';
export type {
  LocalRestateServer,
  LocalRestateServerOptions,
  RestatePorts,
  StartLocalRestateServerOptions,
} from './local-server.js';
export { serveRestateEndpoint } from './endpoint-server.js';
export type {
  RestateEndpointServer,
  RestateServiceDefinitions,
  ServeRestateEndpointOptions,
} from './endpoint-server.js';
export { registerDeployment } from './admin-api.js';
export type { RegisterDeploymentOptions, RegisteredDeployment } from './admin-api.js';
export { counterObject } from './counter-object.js';
export { restateServices } from './services.js';
export { sessionObject, sessionDirectory, sessionIdOf } from './session-object.js';
export { createCompactionWorkflow, compactionWorkflow } from './compaction-workflow.js';
export type {
  CompactionRequest,
  CompactionResult,
  CompactionWorkflowOptions,
} from './compaction-workflow.js';
export { createTurnService } from './turn-service.js';
export type { TurnRequest, TurnResult, TurnServiceOptions, TurnUsage } from './turn-service.js';
export {
  createSessionEvents,
  sessionEvents,
  sessionEventsWait,
  FEED_SIZE,
  FEED_TRIM,
  FEED_PAGE,
} from './event-feed.js';
export type { FeedEvent, FeedPage } from './event-feed.js';
export { createRestateSessionStore } from './restate-session-store.js';
export type { RestateSessionStoreOptions } from './restate-session-store.js';
export { createRestateSessionClient } from './session-client.js';
export type { RestateSessionClient, RestateSessionClientOptions } from './session-client.js';
export { MAX_MESSAGE_BYTES, PAGE_BYTES } from './limits.js';
