/**
 * The test Messages API server for one test: started on loopback, closed after the test (after
 * the test file's own `afterEach`, which vitest runs first, so runtimes using it close before it).
 */
import { afterEach } from 'vitest';
import {
  startMessagesApiServer,
  type MessagesApiServer,
  type MessagesApiServerOptions,
} from '../support/messages-api-server.js';

const servers: MessagesApiServer[] = [];

/** A test Messages API server, closed after the current test. */
export async function startTestMessagesApi(
  options: MessagesApiServerOptions = {},
): Promise<MessagesApiServer> {
  const server = await startMessagesApiServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
