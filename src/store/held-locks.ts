/**
 * @internal The root locks this process holds or is taking, and their release when the process
 * exits without closing its runtimes.
 *
 * The table lives on `globalThis` under a registered symbol, so that two copies of this module in
 * one process (an ESM and a CommonJS build, a bundled copy, a test runner reloading modules) see
 * the same locks: a second runtime is refused whichever copy opens it, and a lock file naming
 * this process but absent from the table was truly left behind. Worker threads have their own
 * `globalThis`; their locks carry a `threadId`.
 */
import { readFileSync, unlinkSync } from 'node:fs';

/** A lock of this process, by lock file. */
export interface HeldLock {
  /** The token written into the lock file. */
  token: string;
  /** What the lock file says (a `LockHolder`), for refusals. */
  holder: { token: string };
  /** Our fully written lock file before it is linked in; removed once the lock is taken. */
  candidate: string;
}

interface LockTable {
  locks: Map<string, HeldLock>;
  releaseAllSync: () => void;
}

const TABLE = Symbol.for('dagent-sessions.root-locks.v1');

function table(): LockTable {
  const scope = globalThis as { [TABLE]?: LockTable };
  return (scope[TABLE] ??= createTable());
}

function createTable(): LockTable {
  const locks = new Map<string, HeldLock>();
  // Runs on 'exit', when only synchronous work happens. SIGKILL, or a signal without a handler
  // (SIGINT, SIGTERM), skips it: such a lock stays, names a dead process, and is taken over.
  const releaseAllSync = (): void => {
    for (const [file, lock] of locks) {
      // Also a lock still being taken: it may already be linked in, under our token.
      releaseFileSync(file, lock.token);
      unlinkQuietly(lock.candidate);
    }
    locks.clear();
  };
  return { locks, releaseAllSync };
}

/** Removes `file` if it still holds `token`: never a lock someone else took over. */
function releaseFileSync(file: string, token: string): void {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown };
    if (holder.token === token) unlinkSync(file);
  } catch {
    // Missing, unreadable or not ours: nothing of ours to remove.
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** @internal The lock of this process on `file` (held or being taken), if any. */
export function heldLock(file: string): HeldLock | undefined {
  return table().locks.get(file);
}

/** @internal Whether a lock or claim with this token belongs to this process (held or being taken). */
export function isOurToken(token: string): boolean {
  for (const lock of table().locks.values()) if (lock.token === token) return true;
  return false;
}

/**
 * @internal Records that this process takes `file`. The first lock registers one 'exit' listener
 * for all of them; it is removed with the last one.
 */
export function addHeldLock(file: string, lock: HeldLock): void {
  const { locks, releaseAllSync } = table();
  if (locks.size === 0) process.on('exit', releaseAllSync);
  locks.set(file, lock);
}

/** @internal Forgets `file`; the last one removes the 'exit' listener. */
export function removeHeldLock(file: string): void {
  const { locks, releaseAllSync } = table();
  if (!locks.delete(file)) return;
  if (locks.size === 0) process.off('exit', releaseAllSync);
}

/** @internal How many 'exit' listeners this table has registered (0 or 1), for tests. */
export function exitListenerCount(): number {
  return process.listeners('exit').filter((listener) => listener === table().releaseAllSync).length;
}
