/**
 * The lowdb adapter behind chat.json: a snapshot plus an append-only log, so that an append costs
 * one small write and one fdatasync however long the session is.
 *
 * - `chat.json` is the snapshot: live messages and derived figures, with `snapshotSeq`, the
 *   highest message seq it holds.
 * - `chat.log` holds one record per appended message: `<crc32> <json>\n`. `read()` replays the
 *   records above `snapshotSeq`. A torn last record (crash mid-write) fails its checksum or lacks
 *   its newline: it is dropped, counted, and cut off before the next append. A bad record followed
 *   by good ones is damage, not a torn write: the log is set aside and `CORRUPT_FILE` reported.
 * - `write(data)` (lowdb's contract) folds: it writes a new snapshot atomically, then empties the
 *   log. A crash between the two is harmless, since replay skips records at or below `snapshotSeq`.
 *   The adapter folds by itself once the log outgrows the snapshot, so a fold costs O(1) amortised
 *   per append.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { crc32Hex } from '../core/crc32.js';
import { SessionError } from '../core/errors.js';
import type { ChatFile, Message } from '../core/types.js';
import { fsyncDir, isErrno } from './durable-fs.js';
import { DurableJsonFile } from './durable-json-file.js';
import { setAside, corruptFileError } from './corrupt.js';
import { messagesProblem } from './archive-rules.js';

/** Options of {@link JournaledChatFile}. */
export interface JournaledChatFileOptions {
  /** fdatasync every append and snapshot (default true). */
  durable?: boolean;
  readOnly?: boolean;
  /** The log is folded into the snapshot once it is larger than this and than the snapshot. Default 256 KiB. */
  foldMinBytes?: number;
}

/** Figures about the journal, for tests, benchmarks and the inspector. */
export interface JournalStats {
  logRecords: number;
  logBytes: number;
  snapshotBytes: number;
  folds: number;
  /** Torn records dropped at the last read (unacknowledged writes cut by a crash). */
  tornRecordsDropped: number;
}

/** The empty chat. */
export function emptyChat(): ChatFile {
  return {
    messages: [],
    totalMessages: 0,
    oldestMessageTimestamp: null,
    newestMessageTimestamp: null,
    snapshotSeq: -1,
  };
}

function validateChat(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'chat.json must hold an object';
  const v = value as Partial<ChatFile>;
  if (!Array.isArray(v.messages)) return '"messages" must be a list';
  const malformed = messagesProblem(v.messages);
  if (malformed !== null) return malformed.problem;
  if (v.snapshotSeq !== undefined && typeof v.snapshotSeq !== 'number')
    return '"snapshotSeq" must be a number';
  return null;
}

const NEWLINE = 0x0a;

/** @internal Encodes one log record. */
export function encodeRecord(message: Message): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`${crc32Hex(json)} `, 'latin1'), json, Buffer.from('\n', 'latin1')]);
}

interface Replay {
  messages: Message[];
  /** Bytes of the log up to the end of its last good record. */
  goodBytes: number;
  records: number;
  torn: number;
  /** Index of a damaged record followed by good ones, or null. */
  damagedAt: number | null;
}

/** @internal Parses a log buffer; pure, so that it can be tested byte by byte. */
export function replayLog(buffer: Buffer): Replay {
  const messages: Message[] = [];
  let offset = 0;
  let goodBytes = 0;
  let records = 0;
  let firstBad: number | null = null;
  let badCount = 0;
  let index = 0;
  while (offset < buffer.length) {
    const end = buffer.indexOf(NEWLINE, offset);
    const lineEnd = end === -1 ? buffer.length : end;
    const message = end === -1 ? null : decodeLine(buffer.subarray(offset, lineEnd));
    if (message === null && end !== -1 && holdsRecord(buffer.subarray(offset, lineEnd))) {
      // Damage ate a newline (a zeroed block) and a good record follows inside the same line.
      return { messages, goodBytes, records, torn: 0, damagedAt: firstBad ?? index };
    }
    if (message === null) {
      firstBad ??= index;
      badCount++;
    } else if (firstBad !== null) {
      // A good record after a bad one: the bad one is damage, not a torn tail.
      return { messages, goodBytes, records, torn: 0, damagedAt: firstBad };
    } else {
      messages.push(message);
      records++;
      goodBytes = lineEnd + 1;
    }
    offset = lineEnd + 1;
    index++;
  }
  return { messages, goodBytes, records, torn: badCount, damagedAt: null };
}

/** Whether a bad line ends with a complete record that starts after its first byte. */
function holdsRecord(line: Buffer): boolean {
  const starts = /[0-9a-f]{8} \{/g;
  const text = line.toString('latin1');
  for (let match = starts.exec(text); match !== null; match = starts.exec(text)) {
    if (match.index > 0 && decodeLine(line.subarray(match.index)) !== null) return true;
  }
  return false;
}

function decodeLine(line: Buffer): Message | null {
  if (line.length < 10 || line[8] !== 0x20) return null;
  const json = line.subarray(9);
  if (crc32Hex(json) !== line.subarray(0, 8).toString('latin1')) return null;
  try {
    const value = JSON.parse(json.toString('utf8')) as Message;
    return typeof value === 'object' && value !== null && typeof value.seq === 'number' ? value : null;
  } catch {
    return null;
  }
}

/**
 * lowdb adapter for a session's chat: snapshot (`chat.json`) + append-only log (`chat.log`).
 * The adapter owns the in-memory chat: `read()` returns it, `append()` adds to it only once the
 * messages are durable, and `write()` folds it into a new snapshot. All operations run one at a
 * time, in call order; appends that queue up behind a running one share its write and fdatasync.
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
  readonly #durable: boolean;
  readonly #readOnly: boolean;
  readonly #foldMinBytes: number;
  #handle: FileHandle | null = null;
  #logBytes = 0;
  #logRecords = 0;
  #snapshotBytes = 0;
  #folds = 0;
  #torn = 0;
  /** Length the log must be cut to before the next append (a torn tail was found), or null. */
  #truncateTo: number | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #batch: { messages: Message[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | null =
    null;

  constructor(snapshotFile: string, logFile: string, options: JournaledChatFileOptions = {}) {
    this.snapshotFile = snapshotFile;
    this.logFile = logFile;
    this.#durable = options.durable ?? true;
    this.#readOnly = options.readOnly ?? false;
    this.#foldMinBytes = options.foldMinBytes ?? 256 * 1024;
    this.#snapshot = new DurableJsonFile<ChatFile>(snapshotFile, {
      durable: this.#durable,
      readOnly: this.#readOnly,
      validate: validateChat,
      checksum: true,
      serialize: (data) => JSON.stringify(data),
    });
  }

  /** The in-memory chat: only messages that are on disk. */
  get data(): ChatFile {
    return this.#data;
  }

  /** Figures about the journal. */
  get stats(): JournalStats {
    return {
      logRecords: this.#logRecords,
      logBytes: this.#logBytes,
      snapshotBytes: this.#snapshotBytes,
      folds: this.#folds,
      tornRecordsDropped: this.#torn,
    };
  }

  /**
   * Loads snapshot + log. Returns null when neither exists.
   * @throws SessionError `CORRUPT_FILE` when the snapshot does not parse or the log is damaged.
   */
  async read(): Promise<ChatFile | null> {
    return this.#enqueue(async () => {
      const snapshot = await this.#snapshot.read();
      const snapshotText =
        snapshot === null
          ? null
          : await stat(this.snapshotFile).then(
              (s) => s.size,
              () => 0,
            );
      let logBuffer: Buffer | null = null;
      try {
        logBuffer = await readFileBuffer(this.logFile);
      } catch (error) {
        throw new SessionError('IO_ERROR', 'store', `cannot read ${this.logFile}: ${String(error)}`, {
          cause: error,
        });
      }
      if (snapshot === null && logBuffer === null) {
        this.#data = emptyChat();
        return null;
      }
      const chat: ChatFile = snapshot ?? emptyChat();
      chat.snapshotSeq = typeof chat.snapshotSeq === 'number' ? chat.snapshotSeq : lastSeqOf(chat.messages);
      this.#snapshotBytes = snapshotText ?? 0;
      this.#logBytes = 0;
      this.#logRecords = 0;
      this.#torn = 0;
      this.#truncateTo = null;
      if (logBuffer !== null) {
        const replay = replayLog(logBuffer);
        if (replay.damagedAt !== null) {
          const reason = `record ${replay.damagedAt} is damaged and is followed by good records`;
          throw this.#readOnly
            ? corruptFileError(this.logFile, reason, null)
            : await setAside(this.logFile, reason);
        }
        // snapshotSeq, not the last message held: a fold that dropped messages (dropThrough) may
        // leave a snapshot with fewer messages than its log, if it was cut before the truncation.
        let last = Math.max(chat.snapshotSeq, lastSeqOf(chat.messages));
        for (const message of replay.messages) {
          if (message.seq <= last) continue; // already in the snapshot (a fold was cut short) or repeated
          chat.messages.push(message);
          last = message.seq;
        }
        this.#logBytes = replay.goodBytes;
        this.#logRecords = replay.records;
        this.#torn = replay.torn;
        if (replay.goodBytes < logBuffer.length) this.#truncateTo = replay.goodBytes;
      }
      this.#data = withDerived(chat);
      return this.#data;
    });
  }

  /**
   * Folds: writes `data` as the new snapshot (atomically, durably), then empties the log.
   * `data` becomes the adapter's in-memory chat.
   */
  async write(data: ChatFile): Promise<void> {
    return this.#enqueue(() => this.#fold(data));
  }

  /**
   * Appends messages durably; resolves once they are on disk, and only then are they part of
   * {@link JournaledChatFile.data}. Seqs must be above every message already held.
   * @throws SessionError `INVALID_MESSAGE` for a seq that does not increase; I/O errors as they come.
   */
  append(messages: readonly Message[]): Promise<void> {
    if (this.#readOnly) {
      return Promise.reject(
        new SessionError('INVALID_ARGUMENT', 'store', `${this.logFile} is opened read-only`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      if (this.#batch !== null) {
        this.#batch.messages.push(...messages);
        this.#batch.waiters.push({ resolve, reject });
        return;
      }
      const batch = { messages: [...messages], waiters: [{ resolve, reject }] };
      this.#batch = batch;
      this.#enqueue(async () => {
        if (this.#batch === batch) this.#batch = null; // later appends start a new batch
        await this.#appendNow(batch.messages);
      }).then(
        () => batch.waiters.forEach((w) => w.resolve()),
        (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
      );
    });
  }

  /**
   * Removes the messages up to `seq` (they are in the archive now) and folds, after every append
   * queued before this call, so that messages appended meanwhile are kept.
   */
  async dropThrough(seq: number): Promise<void> {
    return this.#enqueue(() =>
      this.#fold({
        ...this.#data,
        messages: this.#data.messages.filter((m) => m.seq > seq),
        snapshotSeq: Math.max(this.#data.snapshotSeq, seq),
      }),
    );
  }

  /** Closes the log's file handle; waits for the operations in flight. */
  async close(): Promise<void> {
    await this.#enqueue(async () => {
      const handle = this.#handle;
      this.#handle = null;
      await handle?.close();
    });
  }

  async #appendNow(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    let last = lastSeqOf(this.#data.messages);
    last = Math.max(last, this.#data.snapshotSeq);
    for (const message of messages) {
      if (!(message.seq > last)) {
        throw new SessionError(
          'INVALID_MESSAGE',
          'store',
          `message seq ${message.seq} does not follow seq ${last}; appends must be in order`,
        );
      }
      last = message.seq;
    }
    const records = Buffer.concat(messages.map(encodeRecord));
    const handle = await this.#openLog();
    try {
      await handle.write(records, 0, records.length);
      if (this.#durable) await handle.datasync();
    } catch (error) {
      // A partial record may be on disk (ENOSPC, EIO): cut it off before anything else is written.
      this.#truncateTo = this.#logBytes;
      throw new SessionError(
        'IO_ERROR',
        'store',
        `cannot append to ${this.logFile}: ${String(error)}; nothing was acknowledged`,
        {
          cause: error,
          retryable: true,
        },
      );
    }
    this.#logBytes += records.length;
    this.#logRecords += messages.length;
    const chat = this.#data;
    for (const message of messages) chat.messages.push(message);
    chat.totalMessages = chat.messages.length;
    chat.oldestMessageTimestamp ??= messages[0]?.timestamp ?? null;
    chat.newestMessageTimestamp = messages[messages.length - 1]?.timestamp ?? chat.newestMessageTimestamp;
    if (this.#logBytes > Math.max(this.#foldMinBytes, this.#snapshotBytes)) {
      // The messages are durable already, so a failed fold must not fail their append; the next
      // append tries again.
      await this.#fold(chat).catch(() => undefined);
    }
  }

  async #fold(data: ChatFile): Promise<void> {
    const chat = withDerived({
      ...data,
      messages: data.messages,
      snapshotSeq: Math.max(data.snapshotSeq, lastSeqOf(data.messages)),
    });
    const text = JSON.stringify(chat);
    await this.#snapshot.write(chat);
    this.#snapshotBytes = Buffer.byteLength(text);
    // The snapshot now holds everything: the log can go. A crash before this point only leaves
    // records that replay skips.
    const handle = await this.#openLog();
    await handle.truncate(0);
    if (this.#durable) await handle.datasync();
    this.#logBytes = 0;
    this.#logRecords = 0;
    this.#truncateTo = null;
    this.#folds++;
    this.#data = chat;
  }

  async #openLog(): Promise<FileHandle> {
    if (this.#handle === null) {
      // O_APPEND: every write lands at the end, which #logBytes tracks.
      this.#handle = await open(this.logFile, 'a');
      if (this.#durable) await fsyncDir(path.dirname(this.logFile)); // the log's directory entry
    }
    if (this.#truncateTo !== null) {
      await this.#handle.truncate(this.#truncateTo);
      if (this.#durable) await this.#handle.datasync();
      this.#logBytes = this.#truncateTo;
      this.#truncateTo = null;
    }
    return this.#handle;
  }

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(operation, operation);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function lastSeqOf(messages: readonly Message[]): number {
  return messages.length === 0 ? -1 : messages[messages.length - 1]!.seq;
}

function withDerived(chat: ChatFile): ChatFile {
  chat.totalMessages = chat.messages.length;
  chat.oldestMessageTimestamp = chat.messages[0]?.timestamp ?? null;
  chat.newestMessageTimestamp = chat.messages[chat.messages.length - 1]?.timestamp ?? null;
  return chat;
}

async function readFileBuffer(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}
