/**
 * The host file, `<root>/.dagent/server.json`: where the process that holds a root's write lock
 * serves its sessions. Command-line tools that find the root locked send their changes to that
 * server instead of failing, so that they reach the holder's runtime (and every page watching
 * its event stream). Only loopback servers are advertised; a token is never written to disk.
 */
import { readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile, isErrno } from '../store/durable-fs.js';

/** What the host file holds. */
export interface HostFile {
  url: string;
  pid: number;
  startedAt: string;
}

/** @internal The host file of a root. */
export function hostFileOf(root: string): string {
  return path.join(root, '.dagent', 'server.json');
}

/**
 * Advertises `url` as the server of `root` (atomically); returns a function that removes the file
 * if it still names this server.
 * @example const withdraw = await advertiseHost(runtime.root, server.url); ...; await withdraw()
 */
export async function advertiseHost(root: string, url: string): Promise<() => Promise<void>> {
  const file = hostFileOf(root);
  const host: HostFile = { url, pid: process.pid, startedAt: new Date().toISOString() };
  await atomicWriteFile(file, `${JSON.stringify(host, null, 2)}\n`, { durable: false });
  return async () => {
    const current = await readHost(root);
    if (current?.url === url && current.pid === process.pid) await unlink(file).catch(() => undefined);
  };
}

/**
 * The advertised server of `root`, or null when there is none, it is not on loopback, or its
 * process is gone.
 */
export async function readHost(root: string): Promise<HostFile | null> {
  let value: Partial<HostFile>;
  try {
    value = JSON.parse(await readFile(hostFileOf(root), 'utf8')) as Partial<HostFile>;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    return null; // unreadable: not a usable advertisement
  }
  if (typeof value.url !== 'string' || typeof value.pid !== 'number') return null;
  let host: string;
  try {
    host = new URL(value.url).hostname;
  } catch {
    return null;
  }
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) return null;
  try {
    process.kill(value.pid, 0);
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return null;
  }
  return { url: value.url, pid: value.pid, startedAt: String(value.startedAt ?? '') };
}
