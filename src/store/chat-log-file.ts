/**
 * chat.log as a file a {@link JournaledChatFile} appends to: its handle (O_APPEND), its length and
 * record count, the torn tail to cut before the next append, and what happens to the log when an
 * append fails (cut back to where it started, or, if even that fails, an outcome unknown that
 * refuses appends until a read) and when a fold has put its snapshot in place (emptied or replaced).
 */
import { rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import { NOT_WRITTEN, appendFailed, appendOutcomeUnknown } from './chat-log-errors.js';
import {
  SYNC_WRITE_MAX,
  allSettled,
  fsyncDir,
  openStoreFile,
  temporaryBeside,
  writeAll,
  writeAllSync,
} from './durable-fs.js';
import { ioError } from './io-error.js';
import type { FoldTail } from './journal-types.js';
import { syncData, syncDataHere } from './sync-report.js';

/** Resolves after one turn of the event loop (its timers, I/O and other immediates first). */
const aTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** @internal A new log a background fold prepared (see {@link ChatLogFile.prepare}). */
export interface PreparedLog {
  handle: FileHandle;
  temp: string;
  /** What it holds: written and, when durable, fdatasynced. */
  bytes: number;
  records: number;
  /** How many records of the fold's tail it was made with. */
  taken: number;
}

/** One chat.log, appended to. @internal */
export class ChatLogFile {
  readonly file: string;
  readonly #durable: boolean;
  /** Checks that the log's directory does not lead outside the store's root. */
  readonly #assertInsideRoot: () => Promise<void>;
  #handle: FileHandle | null = null;
  /** Length of the log on disk; `#sizeUnknown` when a failed truncation left it in doubt. */
  #bytes = 0;
  #sizeUnknown = false;
  #records = 0;
  /** Length the log must be cut to before the next append (a torn tail was found), or null. */
  #truncateTo: number | null = null;
  /** Set when a failed append could not be cut off: whether it is on disk is unknown. */
  #unknown: SessionError | null = null;
  /** Whether the log's directory entry was synced since its handle was opened (see {@link syncEntry}). */
  #entrySynced = false;
  /** The fsync of the log's directory in flight for the handle open, or null. */
  #entrySyncing: Promise<void> | null = null;
  /** The fdatasync of a small append is made on the calling thread (`syncAppends: 'calling-thread'`). */
  readonly #syncHere: boolean;

  constructor(
    file: string,
    durable: boolean,
    assertInsideRoot: () => Promise<void>,
    syncAppends: 'thread-pool' | 'calling-thread' = 'thread-pool',
  ) {
    this.file = file;
    this.#durable = durable;
    this.#assertInsideRoot = assertInsideRoot;
    this.#syncHere = durable && syncAppends === 'calling-thread';
  }

  /** Length of the log on disk, as far as known. */
  get bytes(): number {
    return this.#bytes;
  }

  get records(): number {
    return this.#records;
  }

  /** The error of a failed append that could not be cut off, or null. */
  get unknown(): SessionError | null {
    return this.#unknown;
  }

  /**
   * A read found the log `bytes` long with `records` good records; `tornAt`: where a torn tail
   * starts, to be cut before the next append. No arguments: no log.
   */
  loaded(bytes = 0, records = 0, tornAt: number | null = null): void {
    this.#bytes = bytes;
    this.#sizeUnknown = false;
    this.#records = records;
    this.#truncateTo = tornAt;
    this.#unknown = null;
  }

  /** `bytes` in `records` records were appended (written and synced). */
  grew(bytes: number, records: number): void {
    this.#bytes += bytes;
    this.#records += records;
  }

  /** The handle to append with, the log cut to its torn tail and its length known. */
  async open(): Promise<FileHandle> {
    if (this.#handle === null) {
      await this.#assertInsideRoot();
      // O_APPEND: every write lands at the end, which #bytes tracks.
      this.#handle = await openStoreFile(
        this.file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
      ).catch((error: unknown) => {
        throw ioError(error, this.file, 'open', NOT_WRITTEN);
      });
      this.#entrySynced = !this.#durable; // the entry of a log O_CREAT may have made is synced next
      this.#entrySyncing = null; // one in flight may have begun before this open
    }
    const handle = this.#handle;
    try {
      if (this.#truncateTo !== null) {
        await handle.truncate(this.#truncateTo);
        if (this.#durable) await syncData(handle, this.file);
        this.#bytes = this.#truncateTo;
        this.#truncateTo = null;
      }
      if (this.#sizeUnknown) {
        this.#bytes = (await handle.stat()).size;
        this.#sizeUnknown = false;
      }
    } catch (error) {
      throw ioError(error, this.file, 'prepare', NOT_WRITTEN);
    }
    return handle;
  }

  /**
   * Appends `records`: written whole and fdatasynced, and the log's directory entry synced side by
   * side when the handle is new. When any of it fails, the log is cut back (see {@link cutBack}).
   * @throws SessionError `IO_ERROR` with `details.outcome` `'not-written'` or `'unknown'`.
   */
  async append(records: Buffer): Promise<void> {
    const handle = await this.open();
    // After opening: a torn tail cut or a length in doubt re-read there moves where it starts.
    const start = this.#bytes;
    const write = async () => {
      // A small batch is written on this thread: one trip through the thread pool (the fdatasync)
      // instead of two, and the fdatasync issued at once. A large one must not hold the event loop;
      // nor may an append without an fdatasync, which would then never yield to it.
      if (this.#durable && records.length <= SYNC_WRITE_MAX) {
        writeAllSync(handle.fd, records);
        // The host chose to wait for the disk on this thread (`syncAppends: 'calling-thread'`). Then
        // one turn of the event loop: else appends awaited one after another would not let it turn
        // (no timer, socket or counting worker's answer in between; measured: the replay's loop
        // delay p99 110-120 ms, and a late count for 3 appends in 5).
        if (this.#syncHere) return syncDataHere(handle.fd, this.file).then(aTurn);
      } else await writeAll(handle, records);
      if (this.#durable) await syncData(handle, this.file);
    };
    try {
      await allSettled([write(), this.syncEntry()]);
    } catch (error) {
      throw await this.cutBack(handle, start, error);
    }
  }

  /**
   * Syncs the log's directory entry, once per handle opened (the open may have created the file):
   * an append is acknowledged only after this and its own fdatasync, which run side by side.
   * Null when there is nothing to sync.
   * @throws SessionError `IO_ERROR` naming the directory.
   */
  syncEntry(): Promise<void> | null {
    if (this.#entrySynced) return null;
    if (this.#entrySyncing !== null) return this.#entrySyncing; // one in flight (a fold's): shared
    const dir = path.dirname(this.file);
    const handle = this.#handle;
    const syncing: Promise<void> = fsyncDir(dir).then(
      () => {
        if (this.#entrySyncing === syncing) this.#entrySyncing = null;
        if (this.#handle === handle) this.#entrySynced = true;
      },
      (error: unknown) => {
        if (this.#entrySyncing === syncing) this.#entrySyncing = null;
        throw error instanceof SessionError
          ? ioError(error.cause, dir, 'sync the directory', NOT_WRITTEN)
          : error;
      },
    );
    this.#entrySyncing = syncing;
    return syncing;
  }

  /**
   * A write or fdatasync of an append failed: part or all of it may be in the log (and after an
   * fdatasync error, may reach the disk later). Cut the log back to where the append started and
   * sync, so that the rejected append can never come back. Returns the error to reject with.
   */
  async cutBack(handle: FileHandle, start: number, cause: unknown): Promise<SessionError> {
    try {
      await handle.truncate(start);
      if (this.#durable) await syncData(handle, this.file);
    } catch (cutError) {
      this.#sizeUnknown = true;
      this.#unknown = appendOutcomeUnknown(cause, cutError, this.file);
      return this.#unknown;
    }
    return appendFailed(cause, this.file);
  }

  /**
   * After a fold the snapshot holds everything the log holds: empty the log. If that fails, the
   * log keeps records that replay skips, and appends go on after them.
   * `covered`: every record in the log is at or below the new snapshot's `snapshotSeq`. Then the
   * truncation is not synced: if a crash undoes it, replay skips every record the log still holds,
   * and the next append's fdatasync makes it durable anyway. An append whose outcome is unknown is
   * never covered (it is not in memory), so emptying the log over one is always synced.
   */
  async empty(covered = false): Promise<void> {
    try {
      const handle = await this.open();
      await handle.truncate(0);
      if (this.#durable && (!covered || this.#unknown !== null)) await syncData(handle, this.file);
    } catch {
      this.#sizeUnknown = true;
      return;
    }
    this.#bytes = 0;
    this.#sizeUnknown = false;
    this.#records = 0;
    this.#truncateTo = null;
    // A failed append whose outcome was unknown is gone now, durably: appends may go on.
    this.#unknown = null;
  }

  /**
   * The first half of a background fold's replacement of the log, done outside the journal's queue:
   * a new log beside chat.log (a unique temporary) holding `records` (those appended since the fold
   * began), written and fdatasynced, its handle kept open (O_APPEND) to become the log's by
   * {@link replace}. Null when it cannot be made (a full disk): the log then stays as it is.
   */
  async prepare(tail: FoldTail): Promise<PreparedLog | null> {
    const temp = temporaryBeside(this.file);
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL;
    const handle = await openStoreFile(temp, flags).catch(() => null);
    if (handle === null) return null;
    const prepared = { handle, temp, bytes: 0, records: 0, taken: tail.records.length };
    return (await writeTo(prepared, Buffer.concat(tail.records), tail.count, this.#durable))
      ? prepared
      : null;
  }

  /**
   * The second half, in the journal's queue: the records of `tail` appended since {@link prepare}
   * added to the new log and synced, which is then renamed over chat.log. Its handle becomes the
   * log's: the next append neither opens the log nor syncs its entry again unless the directory's
   * fsync, started here, has not succeeded by then: it waits for that one, or makes another (an
   * append is acknowledged only once the rename is durable). False when the
   * log was left as it was (its length in doubt, or a write or the rename failed): it then keeps
   * records replay skips, and appends go on after them.
   *
   * Power loss: before the rename is durable chat.log is the old log, which holds every record the
   * new one holds (and the snapshot, installed before, covers the rest); after, the new log, whose
   * records were synced before the rename. The temporary a crash may leave is removed at load.
   */
  async replace(prepared: PreparedLog, tail: FoldTail): Promise<boolean> {
    if (this.#sizeUnknown || this.#truncateTo !== null) return this.discard(prepared); // length in doubt
    const late = Buffer.concat(tail.records.slice(prepared.taken));
    if (!(await writeTo(prepared, late, tail.count - prepared.records, this.#durable))) return false;
    // Windows cannot rename an open file: there the handle is closed and the next append opens.
    const reopen = process.platform === 'win32';
    try {
      if (reopen) await prepared.handle.close();
      await rename(prepared.temp, this.file);
    } catch {
      await discard(prepared);
      return false;
    }
    const old = this.#handle;
    this.#handle = reopen ? null : prepared.handle;
    old?.close().catch(() => undefined); // not waited for: nothing is written through it again
    this.#bytes = prepared.bytes;
    this.#records = prepared.records;
    this.#entrySynced = !this.#durable;
    this.#entrySyncing = null;
    this.syncEntry()?.catch(() => undefined); // in flight now; the next append waits for it
    return true;
  }

  /** Removes a log {@link prepare} made and {@link replace} was not given (the fold is obsolete). */
  async discard(prepared: PreparedLog): Promise<false> {
    await discard(prepared);
    return false;
  }

  /** Closes the handle, if open. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    this.#entrySyncing = null;
    await handle?.close().catch(() => undefined);
  }
}

/** Adds `records` (`count` of them) to a prepared log, synced; false (and removed) if that fails. */
async function writeTo(
  prepared: PreparedLog,
  records: Buffer,
  count: number,
  durable: boolean,
): Promise<boolean> {
  if (records.length > 0) {
    try {
      if (records.length <= SYNC_WRITE_MAX) writeAllSync(prepared.handle.fd, records);
      else await writeAll(prepared.handle, records);
      if (durable) await syncData(prepared.handle, prepared.temp);
    } catch {
      await discard(prepared);
      return false;
    }
  }
  prepared.bytes += records.length;
  prepared.records += count;
  return true;
}

async function discard(prepared: PreparedLog): Promise<null> {
  await prepared.handle.close().catch(() => undefined);
  await unlink(prepared.temp).catch(() => undefined);
  return null;
}
