/**
 * @internal The few filesystem primitives every durable write is made of: a unique temporary
 * file, a write that is whole or fails, fsync of the file, an atomic rename, fsync of the
 * directory. Store files are opened with `O_NOFOLLOW` (the store never makes links, so a link is
 * never followed out of the root), and system errors leave as `SessionError`s (see io-error.ts).
 */
import { randomBytes } from 'node:crypto';
import { constants, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import { errnoOf, ioError } from './io-error.js';
import { reportSync, syncData } from './sync-report.js';
import { inPlaceNotDurable } from './writes-in-doubt.js';

/** @internal Whether an error is a Node.js system error with the given code. */
export function isErrno(error: unknown, code: string): boolean {
  return errnoOf(error) === code;
}

/** @internal `O_NOFOLLOW` where the platform has it (not on Windows, which has no such flag). */
export const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * @internal The error for a store file that is a symbolic link: the store never makes one, so
 * following it could read or write a file outside the root.
 */
export function symlinkError(file: string): SessionError {
  return new SessionError(
    'CORRUPT_FILE',
    'store',
    `${file} is a symbolic link, and the store never makes links: it was not followed and nothing was ` +
      'written through it. Replace the link with a regular file (a copy of what it points to), or ' +
      'remove it, then reopen the session.',
    { details: { file, reason: 'symbolic link', errno: 'ELOOP', setAsideTo: null } },
  );
}

/**
 * @internal Opens a store file without following a symbolic link in its last component.
 * @throws SessionError `CORRUPT_FILE` for a link, `IO_ERROR` for other failures; ENOENT is
 *   rethrown as is, for callers that treat a missing file as empty.
 */
export async function openStoreFile(file: string, flags: number, mode = 0o666): Promise<FileHandle> {
  try {
    return await open(file, flags | NO_FOLLOW, mode);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw error;
    if (isErrno(error, 'ELOOP')) throw symlinkError(file);
    throw ioError(error, file, 'open');
  }
}

/**
 * @internal Writes every byte of `bytes` at the handle's position, or fails. `write(2)` may write
 * fewer bytes than asked (a full disk, `RLIMIT_FSIZE`) and Node then resolves with the short count
 * and no error, so the rest is written again until it is all there or a call fails.
 * @throws the system error of the call that failed; a call that writes nothing counts as ENOSPC.
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw noSpaceError(bytesWritten);
    offset += bytesWritten;
  }
}

/**
 * @internal {@link writeAll} on the calling thread: `writeSync` until every byte is written or a call
 * fails. The same `write(2)` calls, with the same short-write and error rules, but no trip through the
 * thread pool and back; for small buffers only, since the event loop waits for it (see
 * {@link SYNC_WRITE_MAX}).
 * @throws the system error of the call that failed; a call that writes nothing counts as ENOSPC.
 */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw noSpaceError(written);
    offset += written;
  }
}

/**
 * @internal The largest write made on the calling thread ({@link writeAllSync}). Measured on ext4
 * (2-core VM, loaded): `write(2)` of 1-20 KiB into the page cache takes 9-19 us at p50 and 60-100 us
 * at p99, less than the thread-pool round trip it saves; 256 KiB takes 80 us at p50 but 1-2 ms at
 * p99, and 1 MiB 0.3 ms at p50, which an event loop should not wait for.
 */
export const SYNC_WRITE_MAX = 32 * 1024;

function noSpaceError(written: number): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write returned ${written}`), {
    code: 'ENOSPC',
  });
}

/** Errnos of a directory fsync that the platform or filesystem does not support. */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * @internal fsync a directory so that a rename or a new entry in it survives a power loss.
 * Windows cannot open a directory for fsync (EPERM or EISDIR; NTFS journals the rename itself),
 * and some filesystems refuse it (EINVAL, ENOTSUP): there it is skipped. See "Durability by
 * platform" in docs/architecture.md.
 * @throws SessionError `IO_ERROR` for any other failure.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: FileHandle;
  try {
    handle = await open(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
  } catch (error) {
    throw ioError(error, dir, 'open the directory');
  }
  let synced = false;
  try {
    await handle.sync();
    synced = true;
  } catch (error) {
    if (!DIR_SYNC_UNSUPPORTED.has(errnoOf(error) ?? '')) throw ioError(error, dir, 'sync the directory');
  } finally {
    // Not waited for: nothing depends on it, and a trip through the thread pool less per sync.
    handle.close().catch(() => undefined);
  }
  const held = synced ? reportSync('directory', dir) : undefined;
  if (held !== undefined) await held;
}

/**
 * This process's mark in the names of its temporary files, one per process (shared by every copy of
 * this module it loads). A load removes the temporaries without it: a pid alone does not tell a
 * crashed process's file from ours where pids repeat (a container's process starts with the same
 * pid every time).
 */
const PROCESS_MARK: string = ((globalThis as Record<symbol, string | undefined>)[
  Symbol.for('dagent-sessions.temporary-mark')
] ??= randomBytes(4).toString('hex'));

/** `.<name>.<pid>.<hex>.tmp`: 16 hex digits (the process's mark, then the file's), 8 before round 13. */
const TEMPORARY = /^\..+\.\d+\.([0-9a-f]{8})([0-9a-f]{8})?\.tmp$/;

/**
 * @internal A unique temporary file's path beside `file`: `.<name>.<pid>.<hex>.tmp`, the form a load
 * removes when a crash left one behind ({@link isOrphanTemporary}).
 */
export function temporaryBeside(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${PROCESS_MARK}${randomBytes(4).toString('hex')}.tmp`,
  );
}

/**
 * @internal Whether `name` is a temporary file of an atomic write that another process began: one
 * cut short by a crash, which never held acknowledged data (the root's lock is ours).
 */
export function isOrphanTemporary(name: string): boolean {
  const match = TEMPORARY.exec(name);
  return match !== null && (match[2] === undefined || match[1] !== PROCESS_MARK);
}

/**
 * @internal Writes `data` to `file` atomically and durably. The temporary file has a unique name
 * (pid and random suffix), unlike steno's fixed `.file.tmp`, so that two writers can never
 * interleave inside one temporary file. {@link writeAll} ({@link writeAllSync} for a small file)
 * loops on short writes until every byte is written or a call fails (checked under the fault shim
 * and on a full tmpfs).
 * @throws SessionError `IO_ERROR` (the target is unchanged and no temporary file is left, except
 *   when only the final directory fsync failed: then the new content is in place, not durable, and
 *   `details.outcome` is `'in-place-not-durable'`).
 */
export async function atomicWriteFile(
  file: string,
  data: string,
  options: { durable?: boolean } = {},
): Promise<void> {
  const prepared = await prepareAtomicWrite(file, data, options);
  await prepared.install();
}

/** @internal A file written to a temporary beside its place (durably), not yet in place. */
export interface PreparedWrite {
  /**
   * Renames it into place, then syncs the directory, unless `syncDir` is false: then the caller
   * syncs it (once for several files) before it counts on the new entry.
   * @throws SessionError `IO_ERROR`: on a failed rename the target is unchanged and no temporary is
   *   left; when only the directory's fsync failed, the new file is in place but not durable
   *   (`details.outcome` `'in-place-not-durable'`, see {@link inPlaceNotDurable}).
   */
  install(options?: { syncDir?: boolean }): Promise<void>;
  /** Removes the temporary file (it is not going to be installed). */
  discard(): Promise<void>;
}

/**
 * @internal The first half of {@link atomicWriteFile}: `data` written to a unique temporary file
 * beside `file` and fdatasynced (unless `durable: false`), so that several files can be written
 * side by side and put in place in the order their meaning needs.
 * @throws SessionError `IO_ERROR` (no temporary file left behind).
 */
export async function prepareAtomicWrite(
  file: string,
  data: string,
  options: { durable?: boolean } = {},
): Promise<PreparedWrite> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const temp = temporaryBeside(file);
  let handle: FileHandle;
  try {
    handle = await openStoreFile(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
  } catch (error) {
    throw ioError(error, file, 'write', { outcome: 'it was left unchanged' });
  }
  try {
    // A small file is written on this thread (see SYNC_WRITE_MAX): one trip through the pool less.
    const bytes = Buffer.from(data, 'utf8');
    if (bytes.length <= SYNC_WRITE_MAX) writeAllSync(handle.fd, bytes);
    else await writeAll(handle, bytes);
    if (durable) await syncData(handle, temp);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw ioError(error, file, 'write', { outcome: 'it was left unchanged' });
  }
  let done = false;
  return {
    async install({ syncDir = true } = {}) {
      done = true;
      // Once its data is durable the temporary is renamed while it closes (a trip through the pool
      // less; a close then reports nothing that matters). Not durable, or on Windows (where an
      // open file cannot be renamed), it is closed first, as a close may report a failed write.
      const closing = durable && process.platform !== 'win32' ? handle.close().catch(() => undefined) : null;
      try {
        if (closing === null) await handle.close();
        await rename(temp, file);
      } catch (error) {
        await closing;
        await unlink(temp).catch(() => undefined);
        throw ioError(error, file, 'replace', { outcome: 'it was left unchanged' });
      }
      await closing;
      if (durable && syncDir)
        await fsyncDir(dir).catch((error: unknown) => {
          throw inPlaceNotDurable(error, file);
        });
    },
    async discard() {
      if (done) return;
      done = true;
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    },
  };
}

/**
 * @internal Reads a UTF-8 file, or null when it does not exist (lowdb's adapter contract).
 * @throws SessionError `CORRUPT_FILE` for a symbolic link, `IO_ERROR` for other failures.
 */
export async function readTextOrNull(file: string): Promise<string | null> {
  const bytes = await readBytesOrNull(file);
  return bytes === null ? null : bytes.toString('utf8');
}

/**
 * @internal Reads a file's bytes without following a link, or null when it does not exist.
 * @throws SessionError `CORRUPT_FILE` for a symbolic link, `IO_ERROR` for other failures.
 */
export async function readBytesOrNull(file: string): Promise<Buffer | null> {
  let handle: FileHandle;
  try {
    handle = await openStoreFile(file, constants.O_RDONLY);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    return await handle.readFile();
  } catch (error) {
    throw ioError(error, file, 'read');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * @internal mkdir -p, then fsync the parent of every directory it made (side by side), so that
 * the new directory entries are durable.
 * @throws SessionError `IO_ERROR`
 */
export async function ensureDir(dir: string): Promise<void> {
  await allSettled((await makeDir(dir)).map((parent) => fsyncDir(parent)));
}

/**
 * @internal A directory a writer makes before its first file there ({@link ensureDir}), then knows
 * is there: one trip through the thread pool less per write. Under the root's lock nobody else
 * removes it; `forget` after a failed write, so that a retry makes it again if it went.
 */
export class MadeDirectory {
  readonly #dir: string;
  #made = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** @throws SessionError `IO_ERROR` when it cannot be made. */
  async ensure(): Promise<void> {
    if (this.#made) return;
    await ensureDir(this.#dir).catch((error: unknown) => {
      throw ioError(error, this.#dir, 'create the directory');
    });
    this.#made = true;
  }

  forget(): void {
    this.#made = false;
  }
}

/**
 * @internal mkdir -p without the fsyncs: returns the directories whose new entries must be synced
 * (the parent of each directory made) before anything written inside counts as durable. A caller
 * that syncs them later (side by side with its own last write) saves a round trip to the disk.
 * @throws SessionError `IO_ERROR`
 */
export async function makeDir(dir: string): Promise<string[]> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true });
  } catch (error) {
    throw ioError(error, dir, 'create the directory');
  }
  if (created === undefined) return [];
  const parents: string[] = [];
  for (let made = path.resolve(dir); ; made = path.dirname(made)) {
    parents.push(path.dirname(made));
    if (made === path.resolve(created) || path.dirname(made) === made) return parents;
  }
}

/**
 * @internal Refuses a directory that leads outside `root` through a symbolic link (a session
 * directory replaced by a link to elsewhere): the store would otherwise read, truncate and write
 * files that are not its own. A missing directory passes (there is nothing to follow yet).
 * @throws SessionError `CORRUPT_FILE` naming the link and where it leads.
 *
 * @example
 * ```ts
 * await assertInsideRoot(path.join(root, '.dagent', 'sessions', id), root)
 * ```
 */
export async function assertInsideRoot(dir: string, root: string): Promise<void> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(dir), realpath(root)]);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw ioError(error, dir, 'resolve');
  }
  const relative = path.relative(realRoot, real);
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) return;
  const isLink = await lstat(dir).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
  throw new SessionError(
    'CORRUPT_FILE',
    'store',
    `${dir} leads outside the root ${root} (to ${real})${isLink ? ' through a symbolic link' : ''}, and ` +
      'the store never makes links: nothing there was read or written. Move the directory itself under ' +
      `${root}, or remove the link, then reopen the session.`,
    { details: { file: dir, reason: 'outside the root', target: real, setAsideTo: null } },
  );
}

/**
 * @internal Waits for operations run side by side (null: none) and for every one of them to end
 * before it settles: rejects with the first error in the order given, but never while another is
 * still running, so that nothing is written after a failure has been reported.
 */
export async function allSettled(operations: readonly (Promise<unknown> | null)[]): Promise<void> {
  const results = await Promise.allSettled(operations);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}
