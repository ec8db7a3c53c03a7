/**
 * A lowdb adapter for small JSON files that must survive crashes: atomic, durable writes with a
 * unique temporary file, and files that do not parse are set aside instead of overwritten.
 */
import type { Adapter } from 'lowdb';
import { atomicWriteFile, readTextOrNull } from './durable-fs.js';
import { SessionError, describeError } from '../core/errors.js';
import { corruptFileError, setAside } from './corrupt.js';

/** Options of {@link DurableJsonFile}. */
export interface DurableJsonFileOptions<T> {
  /** fsync file and directory on every write (default true). */
  durable?: boolean;
  /** Checks the parsed value; return a reason string to reject it as corrupt. */
  validate?: (value: unknown) => string | null;
  /** Never write, never move files (read-only runtimes). */
  readOnly?: boolean;
  /** Shapes the value before it is written (default: pretty JSON). */
  serialize?: (data: T) => string;
}

/**
 * lowdb adapter: `read()` returns null for a missing file and throws `CORRUPT_FILE` (after
 * setting the file aside) for one that does not parse; `write()` is atomic and durable.
 *
 * @example
 * ```ts
 * const db = new Low(new DurableJsonFile<SessionRecord>(file), null)
 * await db.read(); db.data = record; await db.write()
 * ```
 */
export class DurableJsonFile<T> implements Adapter<T> {
  readonly file: string;
  readonly #options: DurableJsonFileOptions<T>;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(file: string, options: DurableJsonFileOptions<T> = {}) {
    this.file = file;
    this.#options = options;
  }

  /** @throws SessionError `CORRUPT_FILE` when the file exists but is not valid JSON of the right shape. */
  async read(): Promise<T | null> {
    const text = await readTextOrNull(this.file);
    if (text === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw await this.#reject(error);
    }
    const problem = this.#options.validate?.(value) ?? null;
    if (problem !== null) throw await this.#reject(problem);
    return value as T;
  }

  async write(data: T): Promise<void> {
    if (this.#options.readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `${this.file} is opened read-only; open the runtime without readOnly to write`,
      );
    }
    const text = this.#options.serialize
      ? this.#options.serialize(data)
      : `${JSON.stringify(data, null, 2)}\n`;
    // One write at a time, in call order (steno's queue): concurrent renames would otherwise land
    // in whatever order their I/O finished, and an older value could replace the last one.
    const run = this.#tail.then(() =>
      atomicWriteFile(this.file, text, { durable: this.#options.durable ?? true }),
    );
    this.#tail = run.catch(() => undefined);
    await run;
  }

  async #reject(reason: unknown): Promise<SessionError> {
    if (this.#options.readOnly) return corruptFileError(this.file, describeError(reason), null);
    return setAside(this.file, reason);
  }
}
