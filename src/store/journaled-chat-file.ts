/**
 * The lowdb adapter behind chat.json: a snapshot plus an append-only log, so that an append costs
 * one small write and one fdatasync however long the session is.
 *
 * - `chat.json` is the snapshot: live messages, derived figures, `snapshotSeq` (the highest seq in it).
 * - `chat.log` holds one record per appended message (chat-log-format.ts). `read()` replays those
 *   above `snapshotSeq`. An incomplete last record is a torn write (never acknowledged): dropped,
 *   counted, cut off before the next append. A complete record failing its checks is damage: the
 *   log is set aside and `CORRUPT_FILE` reported.
 * - An append is written whole (short writes are continued) and fdatasynced before it resolves.
 *   When that fails, the bytes it left are cut off (and synced) before it rejects; if even the cut
 *   fails, the outcome is unknown and appends are refused until the session is reopened.
 * - `write(data)` (lowdb's contract) folds: it writes a new snapshot atomically, then empties the
 *   log. A crash between the two is harmless, since replay skips records at or below `snapshotSeq`.
 * - The adapter folds by itself once the log outgrows the snapshot (O(1) amortised per append),
 *   and after a commit drops archived messages, in the background while appends go on: the
 *   snapshot serialised once, in chunks (snapshot-writer.ts), renamed into place once durable; then
 *   the log replaced by one of the records appended meanwhile, its handle kept (chat-log-file.ts).
 * - A reader in another process reads the log, then the snapshot: whatever a fold does meanwhile,
 *   it never misses a record acknowledged before it started.
 *
 * Its parts: chat-log-file.ts (the log's handle, length, torn tail, failed appends), chat-counts.ts
 * (uncounted messages, count records), chat-data.ts (the chat as data), journal-types.ts.
 */
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { createOneAtATime } from '../core/one-at-a-time.js';
import { SessionError } from '../core/errors.js';
import type { ChatFile, Message } from '../core/types.js';
import { encodeAppend } from './chat-log-format.js';
import { appendReplayed, readJournal } from './read-journal.js';
import { logDamaged, refusedAfterUnknown } from './chat-log-errors.js';
import { ChatCounts } from './chat-counts.js';
import { assertFollows, emptyChat, lastSeqOf, validateChat, withDerived } from './chat-data.js';
import { ChatLogFile } from './chat-log-file.js';
import { assertInsideRoot } from './durable-fs.js';
import { DurableJsonFile } from './durable-json-file.js';
import type { AppendBatch, FoldTail, JournaledChatFileOptions, JournalStats } from './journal-types.js';
import { prepareSnapshot, writeSnapshot } from './snapshot-writer.js';

export { encodeRecord, replayLog, type Replay } from './chat-log-format.js';
export { emptyChat } from './chat-data.js';
export type { JournaledChatFileOptions, JournalStats } from './journal-types.js';

/**
 * lowdb adapter for a session's chat: snapshot (`chat.json`) + append-only log (`chat.log`). It owns
 * the in-memory chat: `read()` returns it, `append()` adds to it once durable, `write()` folds it.
 * Operations run one at a time, in call order; appends queued behind one share its write and fdatasync.
 *
 * @example
 * ```ts
 * const adapter = new JournaledChatFile(dir + '/chat.json', dir + '/chat.log')
 * const db = new Low(adapter, emptyChat()); await db.read(); db.data = adapter.data
 * await adapter.append([message])  // one write + fdatasync, whatever the session's length
 * ```
 */
export class JournaledChatFile implements Adapter<ChatFile> {
  readonly snapshotFile: string;
  readonly logFile: string;
  #data: ChatFile = emptyChat();
  readonly #snapshot: DurableJsonFile<ChatFile>;
  /** chat.log: its handle, length, torn tail, and an append whose outcome is unknown. */
  readonly #log: ChatLogFile;
  readonly #durable: boolean;
  readonly #readOnly: boolean;
  readonly #foldMinBytes: number;
  readonly #root: string | undefined;
  #snapshotBytes = 0;
  #folds = 0;
  /** After a failed fold: the log size past which the next one is tried. */
  #foldRetryAt = 0;
  #torn = 0;
  /** The error of the last read(), which failed: until one succeeds, nothing is written. */
  #readError: unknown = null;
  readonly #enqueue = createOneAtATime();
  /** Bumped by every fold, drop and read: a background fold begun before is then obsolete. */
  #generation = 0;
  /** The fold running in the background, or null; the records appended meanwhile (its new log). */
  #background: Promise<void> | null = null;
  #foldTail: FoldTail | null = null;
  /** A background fold's snapshot being renamed into place (out of the queue), settled or not. */
  #installing: Promise<void> = Promise.resolve();
  /** Appends waiting behind a running operation: they share one write and fdatasync. */
  #batch: AppendBatch | null = null;
  /** Uncounted messages and the counts not written yet (chat-counts.ts). */
  readonly #counts = new ChatCounts();

  constructor(snapshotFile: string, logFile: string, options: JournaledChatFileOptions = {}) {
    this.snapshotFile = snapshotFile;
    this.logFile = logFile;
    this.#durable = options.durable ?? true;
    this.#readOnly = options.readOnly ?? false;
    this.#foldMinBytes = options.foldMinBytes ?? 256 * 1024;
    this.#root = options.root;
    this.#snapshot = new DurableJsonFile<ChatFile>(snapshotFile, {
      durable: this.#durable,
      readOnly: this.#readOnly,
      validate: validateChat,
      checksum: true,
      serialize: (data) => JSON.stringify(data),
    });
    this.#log = new ChatLogFile(logFile, this.#durable, () => this.#assertInsideRoot(), options.syncAppends);
  }

  /** The in-memory chat: only messages that are on disk. */
  get data(): ChatFile {
    return this.#data;
  }

  get stats(): JournalStats {
    return {
      logRecords: this.#log.records,
      logBytes: this.#log.bytes,
      snapshotBytes: this.#snapshotBytes,
      folds: this.#folds,
      tornRecordsDropped: this.#torn,
    };
  }

  /**
   * Loads snapshot + log. Returns null when neither exists. Reading again is how a session whose
   * last append has an unknown outcome is reopened: what the log holds is then what counts.
   * @throws SessionError `CORRUPT_FILE` when the snapshot does not parse, the log is damaged, a file
   *   is a symbolic link or the directory leads outside the root; `IO_ERROR` when a read fails.
   */
  async read(): Promise<ChatFile | null> {
    return this.#enqueue(async () => {
      try {
        const chat = await this.#load();
        this.#readError = null;
        return chat;
      } catch (error) {
        // What is in memory may not be what is on disk: nothing is written until a read succeeds.
        this.#readError = error;
        throw error;
      }
    });
  }

  /** The journal of a session just created (neither file, found so under the root's lock), unread. */
  async readCreated(): Promise<void> {
    await this.#enqueue(async () => {
      this.#generation++;
      this.#log.loaded();
      this.#torn = 0;
      this.#data = emptyChat();
      this.#readError = null;
    });
  }

  /** Reads snapshot and log into memory; see read(). */
  async #load(): Promise<ChatFile | null> {
    this.#generation++;
    await this.#assertInsideRoot();
    const journal = await readJournal(this.#snapshot, this.logFile, this.#readOnly);
    const { snapshot, snapshotBytes, log, replay } = journal;
    this.#log.loaded();
    this.#torn = 0;
    if (snapshot === null && log === null) {
      this.#data = emptyChat();
      return null;
    }
    const chat: ChatFile = snapshot ?? emptyChat();
    chat.snapshotSeq = typeof chat.snapshotSeq === 'number' ? chat.snapshotSeq : lastSeqOf(chat.messages);
    this.#counts.clear();
    this.#counts.fromSnapshot(chat.messages, replay?.counts);
    this.#snapshotBytes = snapshotBytes;
    if (log !== null && replay !== null) {
      if (replay.damagedAt !== null) throw await logDamaged(replay, this.logFile, this.#readOnly);
      appendReplayed(chat, replay, this.#counts.uncounted);
      this.#torn = replay.torn;
      // Only an incomplete last record is proven torn; only it is ever cut.
      this.#log.loaded(
        replay.goodBytes,
        replay.records,
        replay.goodBytes < log.length ? replay.goodBytes : null,
      );
    }
    this.#data = withDerived(chat);
    // Counts recorded but not written yet are still this instance's to write: a read keeps them
    // (those of messages the files hold counted by now are dropped).
    const pending = this.#counts.take().map(([seq, tokens]) => ({ seq, tokens }));
    this.#counts.record(this.#data.messages, pending);
    return this.#data;
  }

  /** Seqs of held messages whose exact count is not known (see {@link recordCounts}). */
  get uncounted(): ReadonlySet<number> {
    return this.#counts.uncounted;
  }

  /**
   * Records exact counts of messages appended with `uncounted` (their `tokens` was an upper
   * bound): held at once, and written as a count record with the next append (one write, one
   * fdatasync), at a fold, or at close. Until then a crash loses them, and a load reports those
   * messages in {@link uncounted} again: counts are derived data, never lost messages.
   */
  recordCounts(counts: readonly { seq: number; tokens: number }[]): void {
    this.#counts.record(this.#data.messages, counts);
  }
  /**
   * Folds: writes `data` as the new snapshot (atomically, durably), then empties the log.
   * `data` becomes the adapter's in-memory chat.
   * @throws SessionError `IO_ERROR` when the snapshot cannot be written (nothing changed).
   */
  async write(data: ChatFile): Promise<void> {
    return this.#enqueue(() => this.#fold(data));
  }

  /**
   * Appends messages durably; resolves once they are on disk, and only then are they part of
   * {@link JournaledChatFile.data}. Seqs must be above every message already held.
   * @throws SessionError `INVALID_MESSAGE` for a seq that does not increase; `IO_ERROR` when the
   *   write or its fdatasync fails, with `details.errno` and `details.outcome`: `'not-written'`
   *   (the log was cut back, nothing was acknowledged) or `'unknown'` (cutting it back failed too:
   *   not retryable, and appends are refused until {@link JournaledChatFile.read} reopens the log).
   */
  append(messages: readonly Message[], uncounted: readonly number[] = []): Promise<void> {
    if (this.#readOnly) {
      return Promise.reject(
        new SessionError('INVALID_ARGUMENT', 'store', `${this.logFile} is opened read-only`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      if (this.#batch !== null) {
        this.#batch.messages.push(...messages);
        this.#batch.uncounted.push(...uncounted);
        this.#batch.waiters.push({ resolve, reject });
        return;
      }
      const batch = { messages: [...messages], uncounted: [...uncounted], waiters: [{ resolve, reject }] };
      this.#batch = batch;
      this.#enqueue(async () => {
        if (this.#batch === batch) this.#batch = null; // later appends start a new batch
        await this.#appendNow(batch.messages, new Set(batch.uncounted));
      }).then(
        () => batch.waiters.forEach((w) => w.resolve()),
        (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
      );
    });
  }

  /**
   * Drops the messages up to `seq` (archived now), after the appends queued before: from memory at
   * once, from chat.json by a fold in the background, which fails nothing (a load drops them too).
   */
  async dropThrough(seq: number): Promise<void> {
    return this.#enqueue(async () => {
      this.#assertFoldable();
      this.#generation++; // a fold in the background is obsolete now
      const { messages, snapshotSeq } = this.#data;
      this.#data = withDerived({ ...this.#data, messages: messages.filter((m) => m.seq > seq) });
      this.#data.snapshotSeq = Math.max(snapshotSeq, seq);
      this.#foldLater(this.#background ?? Promise.resolve()); // after the obsolete one ends
    });
  }

  /**
   * Writes the counts recorded and not written yet as one count record (one write + fdatasync).
   * @throws SessionError `IO_ERROR` when it cannot be written (the counts stay pending).
   */
  async flushCounts(): Promise<void> {
    if (!this.#counts.hasPending || this.#readOnly) return;
    await this.#enqueue(() => this.#appendNow([], new Set()));
  }

  /** Resolves once the operations queued and a fold in the background are done, worked or not. */
  async settled(): Promise<void> {
    await this.#enqueue(async () => undefined); // one queued (a drop) may start a fold
    while (this.#background !== null) await this.#background;
  }

  /** Closes the log's file handle; waits for the operations in flight and a fold in the background. */
  async close(): Promise<void> {
    await this.settled(); // folds started by operations queued before the close included
    await this.flushCounts().catch(() => undefined); // best effort: a later load counts again
    await this.#enqueue(() => this.#log.close());
  }

  async #appendNow(messages: Message[], uncounted: ReadonlySet<number>): Promise<void> {
    if (messages.length === 0 && !this.#counts.hasPending) return;
    if (this.#readError !== null) throw this.#readError;
    if (this.#log.unknown !== null) throw refusedAfterUnknown(this.#log.unknown, this.logFile);
    assertFollows(messages, Math.max(lastSeqOf(this.#data.messages), this.#data.snapshotSeq));
    // Counts recorded since the last write ride along: no write or fdatasync of their own.
    const counts = this.#counts.take();
    // Encoded by a call of its own: the JSON texts are not held while the write is awaited.
    const records = encodeAppend(messages, uncounted, counts);
    const written = messages.length + (counts.length > 0 ? 1 : 0);
    try {
      await this.#log.append(records);
    } catch (error) {
      this.#counts.restore(counts); // not written: kept for the next write
      throw error;
    }
    for (const seq of uncounted) this.#counts.uncounted.add(seq);
    this.#log.grew(records.length, written);
    this.#foldTail?.records.push(records);
    if (this.#foldTail) this.#foldTail.count += written;
    const chat = this.#data;
    for (const message of messages) chat.messages.push(message);
    chat.totalMessages = chat.messages.length;
    chat.oldestMessageTimestamp ??= messages[0]?.timestamp ?? null;
    chat.newestMessageTimestamp = messages[messages.length - 1]?.timestamp ?? chat.newestMessageTimestamp;
    if (
      this.#background === null &&
      this.#log.bytes > Math.max(this.#foldMinBytes, this.#snapshotBytes, this.#foldRetryAt)
    ) {
      this.#foldLater(null); // off the append's path: it resolves now (its messages are durable)
    }
  }

  /** Starts a fold in the background, at once or once `after` settles. */
  #foldLater(after: Promise<void> | null): void {
    const fold = after === null ? this.#foldInBackground() : after.then(() => this.#foldInBackground());
    const background: Promise<void> = fold.finally(() => {
      if (this.#background === background) this.#background = null;
    });
    this.#background = background;
  }

  /**
   * Folds the chat into a new snapshot while appends go on (see the file comment). One that fails (a
   * full disk) fails nothing: it is tried again once the log has grown as much again. One made
   * obsolete (a fold, a drop, a reload) is discarded. Only the new log's rename waits in the queue.
   */
  async #foldInBackground(): Promise<void> {
    const generation = this.#generation;
    const chat = this.#data;
    const messages = this.#counts.forSnapshot(chat.messages);
    const snapshotSeq = Math.max(chat.snapshotSeq, lastSeqOf(messages));
    const tail: FoldTail = { records: [], count: 0 };
    this.#foldTail = tail;
    try {
      const content = { messages, snapshotSeq };
      const prepared = await prepareSnapshot(this.snapshotFile, content, { durable: this.#durable });
      if (!this.#current(generation)) return await prepared.discard();
      // Out of the queue: the old log holds all the snapshot does. write() waits for this rename.
      const installing = prepared.install();
      this.#installing = installing.catch(() => undefined);
      await installing;
      if (!this.#current(generation)) return;
      chat.snapshotSeq = snapshotSeq;
      this.#snapshotBytes = prepared.bytes;
      this.#folds++;
      this.#foldRetryAt = 0;
      // The new log, as far as it is known now: written and synced outside the queue too.
      const log = await this.#log.prepare(tail);
      if (log === null) throw new Error('no new log'); // a full disk: the catch sets when to try again
      const replaced = await this.#enqueue(async () => {
        if (!this.#current(generation)) return this.#log.discard(log);
        this.#generation++;
        this.#foldTail = null; // complete now: the appends after this go to the new log only
        return this.#log.replace(log, tail);
      });
      // Its directory's fsync, in flight: a fold is done once its rename is durable.
      if (replaced) await this.#log.syncEntry()?.catch(() => undefined);
    } catch {
      this.#foldRetryAt = this.#log.bytes + Math.max(this.#foldMinBytes, this.#snapshotBytes);
    } finally {
      if (this.#foldTail === tail) this.#foldTail = null;
    }
  }

  /** Whether a background fold begun at `generation` may still go on. */
  #current(generation: number): boolean {
    return generation === this.#generation && this.#readError === null && this.#log.unknown === null;
  }

  async #fold(data: ChatFile): Promise<void> {
    this.#assertFoldable();
    this.#generation++; // a fold in the background is obsolete now
    await this.#installing; // and one renaming its snapshot into place is done first
    // Every record in the log is a message held (an acknowledged append) or one dropped before.
    const inLog = Math.max(this.#data.snapshotSeq, lastSeqOf(this.#data.messages));
    const chat = withDerived({
      ...data,
      messages: data.messages,
      snapshotSeq: Math.max(data.snapshotSeq, lastSeqOf(data.messages)),
    });
    // Serialised once, in chunks (snapshot-writer.ts).
    const content = { ...chat, messages: this.#counts.forSnapshot(chat.messages) };
    this.#snapshotBytes = await writeSnapshot(this.snapshotFile, content, { durable: this.#durable });
    this.#data = chat;
    this.#folds++;
    await this.#log.empty(chat.snapshotSeq >= inLog);
  }

  #assertFoldable(): void {
    if (this.#readError !== null) throw this.#readError;
    if (this.#readOnly) {
      throw new SessionError('INVALID_ARGUMENT', 'store', `${this.snapshotFile} is opened read-only`);
    }
  }

  async #assertInsideRoot(): Promise<void> {
    if (this.#root !== undefined) await assertInsideRoot(path.dirname(this.logFile), this.#root);
  }
}
