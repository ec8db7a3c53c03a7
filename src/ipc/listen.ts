/**
 * @internal Starting an HTTP server and naming its URL.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SessionError, describeError } from '../core/errors.js';

/**
 * @internal Listens on `host:port` and resolves to the server's URL (`http://127.0.0.1:<port>`).
 * @throws SessionError `IO_ERROR` naming `who` when it cannot listen (port taken, bad host).
 */
export async function listen(
  server: Server,
  port: number,
  host: string,
  who: string,
  onError?: () => void,
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      onError?.();
      reject(
        new SessionError(
          'IO_ERROR',
          'runtime',
          `${who}: could not listen on ${host}:${port} (${describeError(error)}); choose another port or host`,
          { cause: error },
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
