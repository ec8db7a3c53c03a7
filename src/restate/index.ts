/**
 * `dagent-sessions/restate`: sessions on Restate (issue 14), the parts that do not depend on the
 * session store contract yet. A local restate-server from node_modules on loopback
 * (`startLocalRestateServer`), a service endpoint (`serveRestateEndpoint`), registration through
 * the admin API (`registerDeployment`), and the services the endpoint serves (`restateServices`).
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
