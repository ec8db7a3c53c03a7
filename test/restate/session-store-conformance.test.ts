/**
 * The store conformance suite through the Restate session store: every case on a fresh namespace
 * of one real restate-server (this file's), the `session` object served in this process. A reopen
 * is a new client store on the same server and namespace; a crash case stops a write after its
 * one step (the object's answer), as a client killed there would.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { testSessionStore } from '../../src/conformance/index.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({
    services: [sessionObject, sessionDirectory],
    logger: () => undefined,
  });
  await server.register(endpoint.url);
});

afterAll(async () => {
  await endpoint?.close();
});

testSessionStore('Restate session store', {
  async setup() {
    const namespace = randomUUID().slice(0, 8);
    return {
      open: async (options = {}) =>
        createRestateSessionStore({
          ingressUrl: server.ingressUrl,
          namespace,
          ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
          ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
        }),
    };
  },
});
