/**
 * @internal Where the JSON-file store reports its syncs to a test hook ({@link StoreHooks.synced}):
 * each fdatasync of a file and fsync of a directory, from the primitive that made it, so that the
 * conformance suite can apply what a power loss leaves after any of them.
 *
 * The hook of the store that started a write rides along its asynchronous calls
 * (`AsyncLocalStorage`): the primitives deep in the write path (durable-fs.ts, the chat log, the
 * snapshot writer, a fold started in the background) report without every layer passing it down.
 * Without hooks nothing is ever run in a context, and a report is one `getStore()` that finds
 * nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fdatasyncSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { StoreHooks } from './contract.js';

type Synced = NonNullable<StoreHooks['synced']>;

const reporting = new AsyncLocalStorage<Synced>();

/** @internal Runs `write` with `hooks.synced` told of every sync it makes (directly: no hook). */
export function reportingSyncs<T>(hooks: StoreHooks | undefined, write: () => Promise<T>): Promise<T> {
  const synced = hooks?.synced;
  return synced === undefined ? write() : reporting.run(synced, write);
}

/**
 * @internal Tells the hook of the write running, if any, that a file's data or a directory's
 * entries at `path` are durable; returns what the hook returned: a promise to wait for before the
 * write goes on (the suite holds a sync in flight that way), or undefined (no tick spent).
 */
export function reportSync(kind: 'file' | 'directory', path: string): void | Promise<void> {
  return reporting.getStore()?.(kind, path);
}

/** @internal fdatasync of `handle`, the file at `file`, then reported (see {@link reportSync}). */
export async function syncData(handle: FileHandle, file: string): Promise<void> {
  await handle.datasync();
  const held = reportSync('file', file);
  if (held !== undefined) await held;
}

/**
 * @internal {@link syncData} on the calling thread: `fdatasyncSync(fd)`, which blocks the event loop
 * until the disk has the data, then reported. For the `syncAppends: 'calling-thread'` option only.
 */
export async function syncDataHere(fd: number, file: string): Promise<void> {
  fdatasyncSync(fd);
  const held = reportSync('file', file);
  if (held !== undefined) await held;
}
