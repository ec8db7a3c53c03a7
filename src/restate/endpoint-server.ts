/**
 * A service endpoint: the Restate SDK's request handler on an HTTP/2 (cleartext) server that this
 * module owns, so that it listens where we say (127.0.0.1 unless told otherwise) and closes for
 * real (Restate keeps its HTTP/2 connections open; closing the server alone would wait for them).
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as restate from '@restatedev/restate-sdk';
import { SessionError } from '../core/errors.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';

/** What an endpoint serves: services, virtual objects and workflows of the Restate SDK. */
export type RestateServiceDefinitions = restate.EndpointOptions['services'];

/** Options of {@link serveRestateEndpoint}. */
export interface ServeRestateEndpointOptions {
  services: RestateServiceDefinitions;
  /** The port; default 0, a free one. */
  port?: number;
  /** The interface; default `127.0.0.1`. Anything else exposes handlers to whoever can reach it. */
  host?: string;
  /**
   * Request identity public keys of the Restate servers allowed to call (`publickeyv1_...`). Without
   * them the endpoint accepts any caller, which is fine on loopback and nowhere else.
   */
  identityKeys?: string[];
  /** The SDK's log transport; default the SDK's (console). */
  logger?: restate.EndpointOptions['logger'];
}

/** A running endpoint. */
export interface RestateEndpointServer {
  /** `http://host:port`: what to register with Restate. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Stops listening and ends every open connection; resolves once closed. */
  close(): Promise<void>;
}

/**
 * Serves Restate handlers on an HTTP/2 cleartext server, on 127.0.0.1 by default.
 *
 * @param options - the services, and optional port, host, identity keys and logger.
 * @returns the running endpoint, with the URL to register.
 * @throws SessionError `SESSION_UNAVAILABLE` when the port cannot be bound (the errno in `details`).
 * @example
 * ```ts
 * const endpoint = await serveRestateEndpoint({ services: restateServices(), port: 9080 });
 * await registerDeployment(adminUrl, endpoint.url);
 * ```
 */
export async function serveRestateEndpoint(
  options: ServeRestateEndpointOptions,
): Promise<RestateEndpointServer> {
  ensurePromiseWithResolvers();
  const host = options.host ?? '127.0.0.1';
  const handler = restate.createEndpointHandler({
    services: options.services,
    ...(options.identityKeys ? { identityKeys: options.identityKeys } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new SessionError(
          'SESSION_UNAVAILABLE',
          'runtime',
          `restate: cannot serve the endpoint on ${host}:${options.port ?? 0}: ${error.message}`,
          { cause: error, details: { errno: error.code, host, port: options.port ?? 0 } },
        ),
      ),
    );
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    host,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}
