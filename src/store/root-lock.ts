/**
 * One writer per root. The lock is `<root>/.dagent/lock`, created with O_EXCL and holding the
 * holder's pid, host, process start time and when it was taken, so that a refusal can name the
 * holder and a dead holder's lock can be taken over.
 */
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SessionError } from '../core/errors.js';
import { ensureDir, fsyncDir, isErrno } from './durable-fs.js';

/** Who holds a root's lock. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** Process start time from /proc (Linux), to tell a live holder from a reused pid. */
  processStart: string | null;
  acquiredAt: string;
  /** Unique per acquisition: two runtimes of one process are told apart by it. */
  token: string;
  description?: string;
}

/** A held lock; `release()` is idempotent. */
export interface RootLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

// Locks held by this process, by lock file: a second runtime in the same process is refused.
const heldHere = new Map<string, LockHolder>();

/** @internal Start time of a process (field 22 of /proc/PID/stat), or null where unknown. */
export function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** @internal Whether the process that wrote `holder` is still running. */
export function holderIsAlive(holder: LockHolder): boolean {
  if (holder.hostname !== os.hostname()) return true; // cannot tell: assume alive
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return false;
  }
  const start = processStartOf(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

function describeHolder(holder: LockHolder): string {
  const who = holder.description ? ` (${holder.description})` : '';
  return `process ${holder.pid} on ${holder.hostname}${who}, since ${holder.acquiredAt}`;
}

async function readHolder(file: string): Promise<LockHolder | null | 'unreadable'> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    return typeof value.pid === 'number' && typeof value.hostname === 'string' ? value : 'unreadable';
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    return 'unreadable';
  }
}

/**
 * Takes the write lock of `root`.
 * @throws SessionError `ROOT_LOCKED` naming the holder when another live process, or another
 *   runtime of this process, holds it.
 * @example
 * ```ts
 * const lock = await acquireRootLock('/repo', 'dagent-sessions runtime'); ...; await lock.release()
 * ```
 */
export async function acquireRootLock(root: string, description?: string): Promise<RootLock> {
  const dir = path.join(root, '.dagent');
  const file = path.join(dir, 'lock');
  await ensureDir(dir);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    processStart: processStartOf(process.pid),
    acquiredAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    ...(description === undefined ? {} : { description }),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const here = heldHere.get(file);
    if (here) {
      throw new SessionError(
        'ROOT_LOCKED',
        'lock',
        `${root} is already open for writing by another runtime in this process (${describeHolder(here)}); close it first, or open this one with readOnly: true`,
        {
          details: { root, holder: here },
        },
      );
    }
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(holder)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsyncDir(dir);
      heldHere.set(file, holder);
      return makeLock(file, holder);
    } catch (error) {
      if (!isErrno(error, 'EEXIST'))
        throw new SessionError('IO_ERROR', 'lock', `cannot create ${file}: ${String(error)}`, {
          cause: error,
        });
    }
    const current = await readHolder(file);
    if (current === null) continue; // released meanwhile
    if (current === 'unreadable') {
      // Either being written right now (a few microseconds) or left torn by a crash.
      await new Promise((r) => setTimeout(r, 50));
      if ((await readHolder(file)) !== 'unreadable') continue;
    } else if (
      holderIsAlive(current) &&
      !(current.pid === process.pid && current.processStart === holder.processStart)
    ) {
      throw new SessionError(
        'ROOT_LOCKED',
        'lock',
        `${root} is open for writing by ${describeHolder(current)}; stop that process, or open this root with readOnly: true (if the process is gone, delete ${file})`,
        {
          details: { root, holder: current },
        },
      );
    }
    // The holder is dead (or is this very process from a runtime that was never closed):
    // move its lock aside. rename is atomic, so of two processes taking over only one succeeds.
    await takeOver(file, current === 'unreadable' ? null : current.token);
  }
  throw new SessionError(
    'ROOT_LOCKED',
    'lock',
    `could not take the lock ${file} after several attempts; another process keeps taking it`,
    { details: { root } },
  );
}

/**
 * Moves a dead holder's lock aside. Two processes may race here: if what was moved turns out to
 * be a fresh lock taken meanwhile (another token), it is put back with link(), which never
 * replaces an existing file.
 */
async function takeOver(file: string, deadToken: string | null): Promise<void> {
  const stale = `${file}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, stale);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  const moved = await readHolder(stale);
  const movedToken = moved === null || moved === 'unreadable' ? null : moved.token;
  if (movedToken !== deadToken) await link(stale, file).catch(() => undefined);
  await unlink(stale).catch(() => undefined);
}

function makeLock(file: string, holder: LockHolder): RootLock {
  let released = false;
  return {
    file,
    holder,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      const current = await readHolder(file);
      if (current !== null && current !== 'unreadable' && current.token === holder.token) {
        await unlink(file).catch(() => undefined);
      }
    },
  };
}

/**
 * Who holds the write lock of `root` now, or null when nobody does (or the lock is unreadable).
 * @example const holder = await readLockHolder('/repo') // { pid, hostname, acquiredAt, ... } | null
 */
export async function readLockHolder(root: string): Promise<LockHolder | null> {
  const holder = await readHolder(path.join(root, '.dagent', 'lock'));
  return holder === null || holder === 'unreadable' ? null : holder;
}
