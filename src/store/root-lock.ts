/**
 * One writer per root. The lock is `<root>/.dagent/lock`, holding the holder's pid, host, process
 * start time, a unique token and when it was taken, so that a refusal can name the holder and a
 * dead holder's lock can be taken over.
 *
 * How it is taken, so that of any number of processes starting together exactly one holds it:
 * 1. Write our lock in full to a file of our own, `lock.<token>.candidate`, and fsync it.
 * 2. `link()` it to `lock`. link never replaces a file, so it succeeds for one process only,
 *    and a lock is never visible half-written.
 * 3. If `lock` exists and its holder runs, refuse. If the holder is dead, take it over:
 *    `link()` the candidate to `lock.<dead token>.next`, a claim that, again, only one process
 *    can make. The claimant re-reads `lock`, checks that it is still the one claimed, and
 *    `rename()`s its candidate over it (rename replaces atomically). Nobody else replaces or
 *    removes a lock: a release removes only a lock holding its own token.
 * 4. A claimant that dies before renaming leaves its claim. Its claim holds its own token, so the
 *    next process claims that in turn (`lock.<dead claimant's token>.next`): the claims form a
 *    chain from the lock through dead claimants, and only the live process at the end of the
 *    chain may rename. Once it has, it removes the chain.
 *
 * A lock file that does not parse was not written by this protocol (an old version wrote the file
 * in place; a crash on a filesystem that loses unsynced data can leave it empty). It is left
 * alone while it may still be written, and taken over, by the same claims, once it has not
 * changed for `unreadableGraceMs` (its claims are named after its inode).
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { SessionError, isSessionError } from '../core/errors.js';
import { ensureDir, fsyncDir } from './durable-fs.js';
import { addHeldLock, heldLock, removeHeldLock } from './held-locks.js';
import { describeHolder, readEntry, removeIfOurs, unlinkIfPresent, type LockHolder } from './lock-file.js';
import {
  DEFAULT_PATIENCE_MS,
  DEFAULT_UNREADABLE_GRACE_MS,
  sweep,
  takeLock,
  type Attempt,
} from './lock-take-over.js';
import { currentPlatformFacts, processStartOf, type PlatformFacts } from './process-liveness.js';

export type { LockHolder } from './lock-file.js';
export { processStartOf } from './process-liveness.js';

/**
 * A held lock. `release()` is idempotent and removes the lock file only while it holds this
 * lock's token; `await using lock = await acquireRootLock(root)` releases it at the end of scope.
 * A process that exits without releasing removes its lock files on 'exit'.
 */
export interface RootLock extends AsyncDisposable {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** Options of {@link acquireRootLock}. */
export interface AcquireRootLockOptions {
  /**
   * How long a lock file that does not parse must stay unchanged before it is taken over
   * (default 5 s): an old version may be writing it.
   */
  unreadableGraceMs?: number;
  /** @internal The platform's facts, for tests. */
  facts?: PlatformFacts;
  /** @internal false: behave as on a filesystem without hard links, for tests. */
  hardLinks?: boolean;
  /** @internal How long to wait for another process that is taking the lock over (default 5 s). */
  patienceMs?: number;
}

function ioError(attempt: Attempt, error: unknown): SessionError {
  const errno = (error as NodeJS.ErrnoException).code;
  return new SessionError('IO_ERROR', 'lock', `cannot take the lock ${attempt.file}: ${String(error)}`, {
    cause: error,
    details: { root: attempt.root, file: attempt.file, ...(errno ? { errno } : {}) },
  });
}

/**
 * Takes the write lock of `root`; of any number of processes trying at once, one gets it.
 * @param description Said in the refusals others get (for example `dagent-sessions inspect`).
 * @throws SessionError `ROOT_LOCKED` naming the holder when another live process, or another
 *   runtime of this process, holds it; `IO_ERROR` (errno in `details`) when the lock cannot be written.
 * @example
 * ```ts
 * const lock = await acquireRootLock('/repo', 'dagent-sessions runtime'); ...; await lock.release()
 * ```
 */
export async function acquireRootLock(
  root: string,
  description?: string,
  options: AcquireRootLockOptions = {},
): Promise<RootLock> {
  const dir = path.join(root, '.dagent');
  const file = path.join(dir, 'lock');
  const here = heldLock(file);
  if (here) {
    const holder = here.holder as LockHolder;
    throw new SessionError(
      'ROOT_LOCKED',
      'lock',
      `${root} is already open for writing by another runtime in this process (${describeHolder(holder)}); ` +
        'close it first, or open this one with readOnly: true',
      { details: { root, file, holder } },
    );
  }
  const facts = options.facts ?? currentPlatformFacts();
  const token = randomBytes(12).toString('hex');
  const holder: LockHolder = {
    pid: process.pid,
    hostname: facts.hostname,
    processStart: processStartOf(process.pid, facts),
    acquiredAt: new Date().toISOString(),
    token,
    ...(description === undefined ? {} : { description }),
    ...(threadId === 0 ? {} : { threadId }),
  };
  const candidate = path.join(dir, `lock.${token}.candidate`);
  const attempt: Attempt = {
    root,
    dir,
    file,
    candidate,
    holder,
    facts,
    graceMs: options.unreadableGraceMs ?? DEFAULT_UNREADABLE_GRACE_MS,
    unreadableSince: new Map(),
    hardLinks: options.hardLinks ?? true,
    patienceMs: options.patienceMs ?? DEFAULT_PATIENCE_MS,
  };
  addHeldLock(file, { token, holder, candidate }); // from here on, this process refuses a second runtime on this root
  let taken = false;
  try {
    await ensureDir(dir);
    const handle = await open(candidate, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(holder)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await takeLock(attempt);
    taken = true;
    await unlinkIfPresent(candidate); // after a link, `lock` keeps the data under its own name
    await fsyncDir(dir);
    await sweep(attempt);
    return makeLock(file, holder);
  } catch (error) {
    await unlinkIfPresent(candidate).catch(() => undefined);
    if (taken) await removeIfOurs(file, token).catch(() => undefined);
    removeHeldLock(file);
    throw isSessionError(error) ? error : ioError(attempt, error);
  }
}

function makeLock(file: string, holder: LockHolder): RootLock {
  let released: Promise<void> | null = null;
  const release = (): Promise<void> =>
    (released ??= (async () => {
      try {
        await removeIfOurs(file, holder.token);
      } catch {
        // Left in place: it names this process, and is taken over once this process is gone.
      } finally {
        // Only now: until the file is gone, a second runtime of this process must be refused.
        removeHeldLock(file);
      }
    })());
  return { file, holder, release, [Symbol.asyncDispose]: release };
}

/**
 * Who holds the write lock of `root` now, or null when nobody does (or the lock is unreadable).
 * @example const holder = await readLockHolder('/repo') // { pid, hostname, acquiredAt, ... } | null
 */
export async function readLockHolder(root: string): Promise<LockHolder | null> {
  const entry = await readEntry(path.join(root, '.dagent', 'lock'));
  return entry?.holder ?? null;
}
