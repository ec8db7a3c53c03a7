/**
 * The services the package's endpoint serves (`dagent-sessions restate serve|dev`): the `session`
 * object, the `sessionDirectory` of each namespace, the `compaction` workflow, `sessionTurn` (an object per session, a
 * conversation turn, the model call a durable step; its client from `ANTHROPIC_API_KEY`), the
 * event feed (`sessionEvents`, `sessionEventsWait`), and `dagentCounter`, which checks a setup.
 */
import { compactionWorkflow } from './compaction-workflow.js';
import { counterObject } from './counter-object.js';
import { sessionEvents, sessionEventsWait } from './event-feed.js';
import type { RestateServiceDefinitions } from './endpoint-server.js';
import { sessionDirectory, sessionObject } from './session-object.js';
import { createTurnService } from './turn-service.js';

/**
 * The Restate services, objects and workflows of dagent-sessions.
 *
 * @returns the definitions to serve.
 * @example
 * ```ts
 * const endpoint = await serveRestateEndpoint({ services: restateServices() });
 * ```
 */
export function restateServices(): RestateServiceDefinitions {
  return [
    sessionObject,
    sessionDirectory,
    compactionWorkflow,
    createTurnService(),
    sessionEvents,
    sessionEventsWait,
    counterObject,
  ];
}
