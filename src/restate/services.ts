/**
 * The services the package's endpoint serves (`dagent-sessions restate serve|dev`). This is where
 * the `session` virtual object and the compaction workflow plug in once the store contract they
 * build on exists (issues 13 and 14); until then it is the counter, which proves the wiring.
 */
import { counterObject } from './counter-object.js';
import type { RestateServiceDefinitions } from './endpoint-server.js';

/**
 * The Restate services, objects and workflows of dagent-sessions.
 *
 * @returns the definitions to serve (today: `dagentCounter`).
 * @example
 * ```ts
 * const endpoint = await serveRestateEndpoint({ services: restateServices() });
 * ```
 */
export function restateServices(): RestateServiceDefinitions {
  // The session object and the compaction workflow join this list.
  return [counterObject];
}
