/**
 * @internal Every checkpoint version a session committed, kept: `checkpoints/NNNNNN.json` holds
 * version N as its commit wrote it (immutable, checksummed like every store file), so that the
 * inspector can show and diff them. checkpoint.json stays the current one (with the checks
 * recorded since); a commit writes the version's copy before checkpoint.json, so a crash between
 * the two leaves a copy of a version that is not current yet, which the next commit of that
 * version replaces. Sessions written before versions were kept have only checkpoint.json: their
 * older versions read as null.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint } from '../core/types.js';
import { isErrno, MadeDirectory } from './durable-fs.js';
import { DurableJsonFile } from './durable-json-file.js';
import { ioError } from './io-error.js';

const VERSION_NAME = /^(\d{6,})\.json$/;

/** @internal The `checkpoints/` directory of one session. */
export class CheckpointHistory {
  readonly dir: string;
  readonly #options: { durable: boolean; readOnly: boolean };
  readonly #validate: (value: unknown) => string | null;
  /** checkpoints/, made (and its entry synced) once by this writer. */
  readonly #made: MadeDirectory;

  constructor(
    dir: string,
    options: { durable: boolean; readOnly: boolean },
    validate: (value: unknown) => string | null,
  ) {
    this.dir = dir;
    this.#options = options;
    this.#validate = validate;
    this.#made = new MadeDirectory(dir);
  }

  path(version: number): string {
    return path.join(this.dir, `${String(version).padStart(6, '0')}.json`);
  }

  /** Versions with a copy on disk, ascending. */
  async versions(): Promise<number[]> {
    try {
      const names = await readdir(this.dir);
      return names
        .map((name) => VERSION_NAME.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw ioError(error, this.dir, 'list');
    }
  }

  /** The copy of `version`, or null. @throws SessionError `CORRUPT_FILE` for a damaged copy (set aside). */
  async read(version: number): Promise<Checkpoint | null> {
    return this.#file(version).read();
  }

  /**
   * Writes the copy of `checkpoint.version` (atomically; replaces a leftover of a cut-short
   * commit). `text`: its text made already for checkpoint.json, whose file options a copy shares.
   */
  async write(checkpoint: Checkpoint, text?: string): Promise<void> {
    await this.#made.ensure();
    const file = this.#file(checkpoint.version);
    await file.write(checkpoint, text ?? file.textOf(checkpoint)).catch((error: unknown) => {
      this.#made.forget(); // a directory removed meanwhile is made again by a retry
      throw error;
    });
  }

  #file(version: number): DurableJsonFile<Checkpoint> {
    return new DurableJsonFile<Checkpoint>(this.path(version), {
      ...this.#options,
      validate: this.#validate,
      checksum: true,
    });
  }
}
