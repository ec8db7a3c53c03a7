/**
 * A lowdb adapter for small JSON files that must survive crashes: atomic, durable writes with a
 * unique temporary file; files that do not parse, fail their checksum, or are not plain files
 * are set aside instead of overwritten; symbolic links are never followed.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Adapter, Low } from 'lowdb';
import { createOneAtATime } from '../core/one-at-a-time.js';
import { SessionError, describeError } from '../core/errors.js';
import {
  allSettled,
  atomicWriteFile,
  isErrno,
  prepareAtomicWrite,
  type PreparedWrite,
} from './durable-fs.js';
import { NOT_A_FILE, corruptFileError, setAside } from './corrupt.js';
import { crc32, crc32Hex, hex8 } from './checksum.js';
import { ioError } from './io-error.js';

/** Options of {@link DurableJsonFile}. */
export interface DurableJsonFileOptions<T> {
  /** fsync file and directory on every write (default true). */
  durable?: boolean;
  /** Checks the parsed value; return a reason string to reject it as corrupt. */
  validate?: (value: unknown) => string | null;
  /** Never write, never move files (read-only runtimes). */
  readOnly?: boolean;
  /** Shapes the value before it is written (default: pretty JSON). It must be a JSON object. */
  serialize?: (data: T) => string;
  /**
   * Write a CRC-32 of the file's JSON as its first member (`{"$crc32":"1a2b3c4d",...}`) and
   * verify it on read (default false). Files without one (older ones, or a file a person edited
   * and removed it from) still load.
   */
  checksum?: boolean;
}

const CHECKSUM_HEAD = '{"$crc32":"';

const CHECKSUM = /^\{"\$crc32":"([0-9a-f]{8})"(,?)/;
const OPEN_BRACE_CRC = crc32('{');

/**
 * @internal Adds the checksum member to the JSON text of an object: the CRC-32 of `json`'s UTF-8
 * bytes, so that {@link verifyChecksum} can check the exact bytes without re-serialising.
 */
export function embedChecksum(json: string): string {
  if (!json.startsWith('{')) throw new TypeError('only a JSON object can carry a checksum');
  const rest = json.slice(1);
  const comma = /^\s*\}/.test(rest) ? '' : ',';
  return `${CHECKSUM_HEAD}${crc32Hex(json)}"${comma}${rest}`;
}

/**
 * @internal The JSON text without its checksum member, or a reason why it is damaged. Text
 * without a checksum member is returned as it is (files written before checksums, or edited).
 */
export function verifyChecksum(text: string, bytes?: Uint8Array): { json: string } | { problem: string } {
  const match = CHECKSUM.exec(text);
  if (match === null) {
    // Damage inside the checksum member itself must not pass for a file without one.
    return text.startsWith('{"$crc32"') ? { problem: 'its "$crc32" member is damaged' } : { json: text };
  }
  const json = `{${text.slice(match[0].length)}`;
  // The file's own bytes when given (the member is ASCII, so it is as long in bytes as in
  // characters): the same CRC without encoding the text back to UTF-8.
  const actual =
    bytes !== undefined ? hex8(crc32(bytes.subarray(match[0].length), OPEN_BRACE_CRC)) : crc32Hex(json);
  return actual === match[1]
    ? { json }
    : { problem: `its "$crc32" checksum is ${match[1]} but its content's is ${actual}` };
}

/** A parsed file's value without its leading checksum member. */
function withoutChecksum(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const { $crc32: _checksum, ...rest } = value as Record<string, unknown>;
  return rest;
}

/** What {@link readPlainFile} found. */
type PlainRead =
  { kind: 'missing' } | { kind: 'text'; text: string; bytes: Buffer } | { kind: 'not-a-file'; what: string };

/**
 * @internal Reads a file without following a symbolic link (`O_NOFOLLOW`) and only if it is a
 * plain file: a link (maybe leading out of the root), a directory or a FIFO in a store file's
 * place is damage, never something to read or write through.
 */
export async function readPlainFile(file: string): Promise<PlainRead> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO put in the file's place must not hang the open.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'missing' };
    if (isErrno(error, 'ELOOP')) return { kind: 'not-a-file', what: 'a symbolic link' };
    throw ioError(error, file, 'read');
  }
  try {
    const info = await handle.stat();
    if (!info.isFile())
      return { kind: 'not-a-file', what: info.isDirectory() ? 'a directory' : 'not a plain file' };
    const bytes = await readWhole(handle, info.size);
    return { kind: 'text', text: bytes.toString('utf8'), bytes };
  } catch (error) {
    throw ioError(error, file, 'read');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The bytes of an open file of `size` bytes, in one read when it has not changed since (instead
 * of `readFile`'s 512 KiB round trips to the thread pool); read on to its end should it grow.
 * One byte more than `size` is room for the read that finds the end, without copying the file
 * into a buffer twice its size first.
 */
async function readWhole(handle: FileHandle, size: number): Promise<Buffer> {
  let bytes = Buffer.allocUnsafe(size + 1);
  let length = 0;
  for (;;) {
    if (length === bytes.length) bytes = Buffer.concat([bytes, Buffer.allocUnsafe(bytes.length)]);
    const { bytesRead } = await handle.read(bytes, length, bytes.length - length, length);
    if (bytesRead === 0) return bytes.subarray(0, length);
    length += bytesRead;
  }
}

/**
 * lowdb adapter: `read()` returns null for a missing file and throws `CORRUPT_FILE` (after
 * setting the file aside) for one that does not parse, fails its checksum or is not a plain
 * file; `write()` is atomic and durable.
 *
 * @example
 * ```ts
 * const db = new Low(new DurableJsonFile<SessionRecord>(file, { checksum: true }), null)
 * await db.read(); db.data = record; await db.write()
 * ```
 */
export class DurableJsonFile<T> implements Adapter<T> {
  readonly file: string;
  readonly #options: DurableJsonFileOptions<T>;
  readonly #oneAtATime = createOneAtATime();

  constructor(file: string, options: DurableJsonFileOptions<T> = {}) {
    this.file = file;
    this.#options = options;
  }

  /**
   * @throws SessionError `CORRUPT_FILE` when the file exists but is not valid JSON of the right
   *   shape, fails its checksum, or is a link, a directory or another non-file; `IO_ERROR` when it
   *   cannot be read.
   */
  async read(): Promise<T | null> {
    const found = await readPlainFile(this.file);
    if (found.kind === 'missing') return null;
    if (found.kind === 'not-a-file') throw await this.#reject(`it is ${found.what}`, NOT_A_FILE);
    const checked = verifyChecksum(found.text, found.bytes);
    if ('problem' in checked) throw await this.#reject(checked.problem, 'is damaged');
    let value: unknown;
    try {
      // The whole text is parsed and the checksum member dropped after: a text cut and joined
      // again would be copied whole once more first (15 MB for a large archive segment).
      value = checked.json === found.text ? JSON.parse(found.text) : withoutChecksum(JSON.parse(found.text));
    } catch (error) {
      throw await this.#reject(error);
    }
    const problem = this.#options.validate?.(value) ?? null;
    if (problem !== null) throw await this.#reject(problem);
    return value as T;
  }

  /**
   * Writes `data` atomically (and durably unless `durable: false`); `text`, when given, is its
   * {@link textOf} already made (by a file of the same options). @throws SessionError `IO_ERROR`.
   */
  async write(data: T, text = this.textOf(data)): Promise<void> {
    // One write at a time, in call order (steno's queue): concurrent renames would otherwise land
    // in whatever order their I/O finished, and an older value could replace the last one.
    try {
      await this.#oneAtATime(() =>
        atomicWriteFile(this.file, text, { durable: this.#options.durable ?? true }),
      );
    } catch (error) {
      if (error instanceof SessionError) throw error;
      throw ioError(error, this.file, 'write');
    }
  }

  /**
   * Writes `data` to a temporary file beside this one (durably unless `durable: false`), to be put
   * in place by its `install`. Outside the one-at-a-time queue: only for a file that has no other
   * writer yet (a session being created) or whose writes are one at a time already (see
   * {@link persistAfter}). @throws SessionError `IO_ERROR`.
   */
  async prepare(data: T, text = this.textOf(data)): Promise<PreparedWrite> {
    return prepareAtomicWrite(this.file, text, { durable: this.#options.durable ?? true });
  }

  /**
   * What a write of `data` puts in the file: its JSON (pretty unless `serialize` says otherwise),
   * with its checksum when `checksum` is set. The same for every file of the same options, so that
   * one value written to two files is serialised once. @throws SessionError for a read-only file.
   */
  textOf(data: T): string {
    if (this.#options.readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `${this.file} is opened read-only; open the runtime without readOnly to write`,
      );
    }
    const json = this.#options.serialize
      ? this.#options.serialize(data)
      : `${JSON.stringify(data, null, 2)}\n`;
    return this.#options.checksum ? embedChecksum(json) : json;
  }

  async #reject(reason: unknown, problem?: string): Promise<SessionError> {
    if (this.#options.readOnly)
      return corruptFileError(
        this.file,
        describeError(reason),
        null,
        problem === undefined ? {} : { problem },
      );
    return setAside(this.file, reason, problem === undefined ? {} : { problem });
  }
}

/**
 * @internal Reads a lowdb database's file into `db.data`. lowdb's own `read()` keeps the old value
 * when the file is gone; a reload must see it gone.
 */
export async function reread<T>(db: Low<T | null>): Promise<T | null> {
  db.data = await db.adapter.read();
  return db.data;
}

/** @internal The file of a lowdb database whose adapter is a {@link DurableJsonFile}. */
export function fileOf<T>(db: Low<T>): string {
  return (db.adapter as DurableJsonFile<T>).file;
}

/** @internal Writes `value`, and only once it is on disk makes it the value held in memory. */
export async function persist<T>(db: Low<T | null>, value: T): Promise<void> {
  await db.adapter.write(value);
  db.data = value;
}

/**
 * @internal {@link persist} after `before`, writes that must be durable before `value` is in place:
 * `value`'s temporary is written and fdatasynced side by side with them, and renamed into place (its
 * directory fsynced) once all of them and it are done. One sync wait fewer than writing it after
 * them, and the same order on disk. If any fails, nothing is put in place and the temporary is
 * removed; every write ends before the failure is reported. Outside the adapter's one-at-a-time
 * queue: only for a file whose writes are one at a time already (checkpoint.json, whose writes a
 * session directory runs one at a time). `before` is handed `value`'s text, for a write of the
 * same value to a file of the same options (checkpoint.json's version copy): serialised once.
 * @throws the first failure of `before`, or SessionError `IO_ERROR`.
 */
export async function persistAfter<T>(
  db: Low<T | null>,
  value: T,
  before: (text: string) => readonly Promise<unknown>[],
): Promise<void> {
  const adapter = db.adapter as DurableJsonFile<T | null>;
  const text = adapter.textOf(value);
  const prepared = adapter.prepare(value, text);
  try {
    await allSettled([...before(text), prepared]);
  } catch (error) {
    await prepared.then(
      (write) => write.discard(),
      () => undefined,
    );
    throw error;
  }
  await (await prepared).install();
  db.data = value;
}
