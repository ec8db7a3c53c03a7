/**
 * @internal Sending a command's change to the host that holds the root, when it advertises a
 * server (see src/ipc/host-file.ts), instead of failing with ROOT_LOCKED.
 */
import { createSessionClient } from '../ipc/client.js';
import type { SessionAPI } from '../ipc/channels.js';
import { readHost } from '../ipc/host-file.js';
import { readLockHolder } from '../store/root-lock.js';
import { rootOf } from './open-runtime.js';

/**
 * @internal Runs `call` against the advertised server of the root when the root's lock is held
 * by that server's process; null when there is no such host (the caller opens the root itself).
 */
export async function forwardToHost<T>(
  root: string | undefined,
  call: (client: SessionAPI) => Promise<T>,
): Promise<{ url: string; value: T } | null> {
  const dir = rootOf(root);
  const [host, holder] = await Promise.all([readHost(dir), readLockHolder(dir)]);
  if (host === null || holder === null || holder.pid !== host.pid) return null;
  const client = createSessionClient(host.url);
  try {
    return { url: host.url, value: await call(client) };
  } finally {
    client.close();
  }
}
