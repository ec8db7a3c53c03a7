/**
 * The services the package's endpoint serves (`dagent-sessions restate serve|dev`): the `session`
 * object, the `sessionDirectory` of each namespace, the `compaction` workflow, `sessionTurn` (a conversation
 * turn with the model call as a durable step; the model client from `ANTHROPIC_API_KEY`), the event feed
 * (`sessionEvents`, `sessionEventsWait`), and the `dagentCounter` that proves a setup with one call.
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
    sessionEvents,
    sessionEventsWait,
    counterObject,
  ];
}
