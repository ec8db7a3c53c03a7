/**
 * @internal The files of the root lock (`lock`, its candidates and claims) as read and written:
 * who holds one, read through one descriptor so that holder and inode belong together.
 */
import { constants } from 'node:fs';
import { lstat, open, unlink } from 'node:fs/promises';
import { isErrno } from './durable-fs.js';
import type { ProcessIdentity } from './process-liveness.js';

/** Who holds a root's lock (the JSON of the lock file). */
export interface LockHolder extends ProcessIdentity {
  pid: number;
  hostname: string;
  /** Process start time from /proc (Linux), to tell a live holder from a reused pid; else null. */
  processStart: string | null;
  acquiredAt: string;
  /** Unique per acquisition: two runtimes of one process are told apart by it. */
  token: string;
  description?: string;
  /** The worker thread that holds it; absent for the main thread. */
  threadId?: number;
}

const SAFE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** @internal A lock or claim file as read: its holder, or null when it does not parse. */
export interface LockEntry {
  /** What a claim on this entry is named after: the holder's token, else the file's inode. */
  id: string;
  holder: LockHolder | null;
  /** Inode, size and mtime: an unreadable file that keeps them has not been written meanwhile. */
  version: string;
  mtimeMs: number;
}

/** @internal `process PID on HOST (description), since TIME`, for messages. */
export function describeHolder(holder: LockHolder): string {
  const who = holder.description ? ` (${holder.description})` : '';
  return `process ${holder.pid} on ${holder.hostname}${who}, since ${holder.acquiredAt}`;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (typeof value !== 'object' || value === null) return null;
    if (!Number.isInteger(value.pid) || typeof value.hostname !== 'string') return null;
    return {
      ...value,
      pid: value.pid!,
      hostname: value.hostname,
      processStart: typeof value.processStart === 'string' ? value.processStart : null,
      acquiredAt: typeof value.acquiredAt === 'string' ? value.acquiredAt : '',
      token: typeof value.token === 'string' ? value.token : '',
    };
  } catch {
    return null;
  }
}

/**
 * @internal Reads a lock or claim (null when absent) through one descriptor, so that holder and
 * inode belong together.
 */
export async function readEntry(file: string): Promise<LockEntry | null> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    if (!isErrno(error, 'ELOOP')) throw error;
    // A symbolic link where the lock should be: unreadable; a rename replaces the link itself.
    const link = await lstat(file).catch(() => null);
    return link && { id: `inode-${link.ino}`, holder: null, version: versionOf(link), mtimeMs: link.mtimeMs };
  }
  try {
    const stat = await handle.stat();
    const holder = parseHolder(await handle.readFile('utf8'));
    const id = holder && SAFE_NAME.test(holder.token) ? holder.token : `inode-${stat.ino}`;
    return { id, holder, version: versionOf(stat), mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
  }
}

function versionOf(stat: { ino: number; size: number; mtimeMs: number }): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/** @internal unlink() that accepts a file already gone. */
export async function unlinkIfPresent(file: string): Promise<void> {
  await unlink(file).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error;
  });
}

/** @internal Removes `file` if it holds `token`: never a lock of someone else. */
export async function removeIfOurs(file: string, token: string): Promise<void> {
  const current = await readEntry(file);
  if (current?.holder?.token === token) await unlink(file);
}
