/**
 * The child process of `startChildEndpoint` (./restate-server.ts): serves the `services` export of
 * the module named by DAGENT_ENDPOINT_MODULE on 127.0.0.1:DAGENT_ENDPOINT_PORT, tells the parent
 * `{ type: 'listening' }` over IPC, and on `{ type: 'stop' }` closes and exits. A test stops it
 * the hard way with SIGKILL.
 *
 * Run: `node --import tsx test/support/restate-endpoint-child.ts` (forked, with an IPC channel).
 */
import { pathToFileURL } from 'node:url';
import { serveRestateEndpoint, type RestateServiceDefinitions } from '../../src/restate/endpoint-server.js';

const modulePath = process.env.DAGENT_ENDPOINT_MODULE;
const port = Number(process.env.DAGENT_ENDPOINT_PORT);
if (modulePath === undefined || !Number.isInteger(port) || process.send === undefined) {
  throw new Error(
    'restate-endpoint-child: needs DAGENT_ENDPOINT_MODULE, DAGENT_ENDPOINT_PORT and an IPC channel',
  );
}

const { services } = (await import(pathToFileURL(modulePath).href)) as {
  services: RestateServiceDefinitions;
};
const endpoint = await serveRestateEndpoint({ services, port });
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stop') return;
  void endpoint.close().then(() => process.disconnect());
});
process.send({ type: 'listening', url: endpoint.url, pid: process.pid });
