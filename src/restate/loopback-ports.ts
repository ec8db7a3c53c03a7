/**
 * Free TCP ports on 127.0.0.1 for a local restate-server and a service endpoint. They are picked
 * below the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), because a
 * restarted server takes its old ports back: a port from the ephemeral range could meanwhile have
 * become the local port of some unrelated outgoing connection, one from below it cannot.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { SessionError } from '../core/errors.js';

/** Where ports are picked when the kernel does not say where its ephemeral range starts. */
const FALLBACK_EPHEMERAL_LOW = 32768;
/** The lowest port picked: above the registered ports most services use. */
const LOWEST = 10000;
const ATTEMPTS = 200;

/** @internal The first port of the kernel's ephemeral range (Linux), or the IANA default elsewhere. */
export async function ephemeralRangeStart(): Promise<number> {
  try {
    const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const low = Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 100 ? low : FALLBACK_EPHEMERAL_LOW;
  } catch {
    return FALLBACK_EPHEMERAL_LOW;
  }
}

/** @internal Whether `port` can be bound on `host` right now. */
export function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Picks `count` distinct ports that are free on 127.0.0.1 now, at random below the ephemeral range.
 * Another process may still take one before it is used: callers that start a server retry with
 * new ports when a bind fails.
 *
 * @param count - how many ports (default 1).
 * @returns the ports, distinct.
 * @throws SessionError `SESSION_UNAVAILABLE` when no free port turns up (a loopback without room).
 * @example
 * ```ts
 * const [ingress, admin, fabric] = await freeLoopbackPorts(3);
 * ```
 */
export async function freeLoopbackPorts(count = 1): Promise<number[]> {
  const high = (await ephemeralRangeStart()) - 1;
  const picked = new Set<number>();
  for (let attempt = 0; attempt < ATTEMPTS && picked.size < count; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST + 1));
    if (!picked.has(port) && (await canBind(port))) picked.add(port);
  }
  if (picked.size < count) {
    throw new SessionError(
      'SESSION_UNAVAILABLE',
      'runtime',
      `restate: found only ${picked.size} of ${count} free loopback ports in ${LOWEST}-${high} after ` +
        `${ATTEMPTS} tries; free some ports or pass explicit ones`,
    );
  }
  return [...picked];
}
