/**
 * @internal A session's `archive/`: immutable, numbered segments, each with a checksum. Reads
 * check every segment (present, intact, numbered in order, continuing the seqs before it, adding
 * up to the checkpoint), on every call, so that damage is never a silent gap; load checks that a
 * segment newer than the checkpoint is a leftover of a commit that did not complete.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import type { ArchiveSegment, Checkpoint, Message } from '../core/types.js';
import {
  archiveTotalsProblem,
  isOrphanSegment,
  segmentChainProblem,
  segmentShapeProblem,
} from './archive-rules.js';
import { inconsistentError } from './corrupt.js';
import { assertNothingSetAside } from './directory-guards.js';
import { allSettled, isErrno, MadeDirectory } from './durable-fs.js';
import { DurableJsonFile } from './durable-json-file.js';
import { deepFreeze } from './freeze.js';
import type { SegmentCache } from './segment-cache.js';

const SEGMENT_NAME = /^(\d{6})\.json$/;

/** The file name of an archive segment: `000001.json`. */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(6, '0')}.json`;
}

/** @internal The segments of one session. */
export class ArchiveDirectory {
  readonly dir: string;
  readonly #options: { durable: boolean; readOnly: boolean };
  /** checkpoint.json, named in errors about what the archive and the checkpoint disagree on. */
  readonly #checkpointFile: string;
  /** Committed segments read before, while their files are unchanged (see segment-cache.ts). */
  readonly #cache: SegmentCache | null;
  /** archive/, made (and its entry synced) once by this writer. */
  readonly #made: MadeDirectory;

  constructor(
    dir: string,
    checkpointFile: string,
    options: { durable: boolean; readOnly: boolean },
    cache: SegmentCache | null = null,
  ) {
    this.dir = dir;
    this.#checkpointFile = checkpointFile;
    this.#options = options;
    this.#cache = cache;
    this.#made = new MadeDirectory(dir);
  }

  path(n: number): string {
    return path.join(this.dir, segmentFileName(n));
  }

  /** Numbers of the segment files on disk, ascending. */
  async numbers(): Promise<number[]> {
    try {
      const names = await readdir(this.dir);
      return names
        .map((name) => SEGMENT_NAME.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
  }

  /** Segment `n` checked for damage (set aside and CORRUPT_FILE if damaged), or null when absent. */
  async read(n: number): Promise<ArchiveSegment | null> {
    return this.#file(n).read();
  }

  /**
   * Committed segment `n`, checked (present, intact, numbered `n`), from the cache while its
   * file is unchanged. `previous` (segment n - 1, or null) is checked to be continued by it.
   * @throws SessionError `CORRUPT_FILE`.
   */
  async readCommitted(
    n: number,
    last: number,
    previous: ArchiveSegment | null = null,
  ): Promise<ArchiveSegment> {
    return this.#checked(n, previous, last);
  }

  /**
   * Writes segment `segment.segment` atomically, if a commit that follows `checkpoint` (the current
   * one) may: a file left in its place by a failed attempt may be replaced only when all its
   * messages are still `live` (see archive-rules.ts). Makes the directory (once); the temporary is
   * written and synced while the check reads what is in the segment's place, and is renamed into
   * place only if the check passes (else removed): the check costs the commit no trip of its own.
   * @throws SessionError `IO_ERROR` when the segment is committed already, or its file exists and
   *   is not such a leftover, or a write fails; `CORRUPT_FILE` for a damaged file in its place.
   */
  async writeChecked(segment: ArchiveSegment, checkpoint: Checkpoint | null, live: readonly Message[]) {
    this.#assertNew(segment, checkpoint);
    await this.#made.ensure();
    const prepared = this.#file(segment.segment).prepare(segment);
    try {
      await allSettled([this.#assertNoOtherFile(segment, checkpoint, live), prepared]);
    } catch (error) {
      await prepared.then(
        (write) => write.discard(),
        () => undefined,
      );
      this.#made.forget(); // a directory removed meanwhile is made again by a retry
      throw error;
    }
    await (await prepared).install();
  }

  #assertNew(segment: ArchiveSegment, checkpoint: Checkpoint | null): void {
    if (segment.segment <= (checkpoint?.compactionInfo.segment ?? 0))
      throw new SessionError(
        'IO_ERROR',
        'store',
        `archive segment ${this.path(segment.segment)} exists already; segments are immutable`,
      );
  }

  async #assertNoOtherFile(segment: ArchiveSegment, checkpoint: Checkpoint | null, live: readonly Message[]) {
    const file = this.path(segment.segment);
    const leftover = await this.read(segment.segment);
    if (leftover !== null && !isOrphanSegment(leftover, checkpoint, live)) {
      throw new SessionError(
        'IO_ERROR',
        'store',
        `archive segment ${file} exists already and holds messages that are not live; nothing was ` +
          `written. It is newer than checkpoint.json: see the load error of this session for what to ` +
          `do`,
        { details: { file } },
      );
    }
  }

  /**
   * The committed segments 1..N (N from `checkpoint`), oldest first, each checked.
   * @throws SessionError `CORRUPT_FILE` for a damaged, missing or out-of-order segment, one set
   *   aside earlier, or an archive that does not add up to the checkpoint's watermark and count.
   */
  async *committed(checkpoint: Checkpoint | null): AsyncGenerator<ArchiveSegment> {
    await assertNothingSetAside(this.dir);
    const last = checkpoint?.compactionInfo.segment ?? 0;
    let previous: ArchiveSegment | null = null;
    let count = 0;
    for (let n = 1; n <= last; n++) {
      const segment = await this.#checked(n, previous, last);
      previous = segment;
      count += segment.messages.length;
      yield segment;
    }
    if (checkpoint !== null) {
      const problem = archiveTotalsProblem(previous, count, checkpoint);
      if (problem !== null) throw inconsistentError(this.#checkpointFile, problem);
    }
  }

  /** Every segment 1..`last` on disk, checked and in order (what a repair rebuilds from). */
  async upTo(last: number): Promise<ArchiveSegment[]> {
    await assertNothingSetAside(this.dir);
    const segments: ArchiveSegment[] = [];
    for (let n = 1; n <= last; n++) segments.push(await this.#checked(n, segments[n - 2] ?? null, last));
    return segments;
  }

  /**
   * What load checks without reading the committed segments: every one of them is on disk, and
   * a segment newer than the checkpoint is a leftover of a commit that did not complete (its
   * messages all live). Returns a note for such a leftover, which is kept.
   * @throws SessionError `CORRUPT_FILE` for a missing segment, or segments the checkpoint does not
   *   cover (a missing or older checkpoint), naming checkpoint.json.
   */
  async checkListing(checkpoint: Checkpoint | null, live: readonly Message[]): Promise<string[]> {
    const committed = checkpoint?.compactionInfo.segment ?? 0;
    const numbers = await this.numbers();
    const present = new Set(numbers);
    for (let n = 1; n <= committed; n++) if (!present.has(n)) throw this.missingError(n, committed);
    const newer = numbers.filter((n) => n > committed);
    if (newer.length === 0) return [];
    if (newer.length === 1 && newer[0] === committed + 1) {
      const leftover = await this.read(committed + 1);
      if (leftover !== null && isOrphanSegment(leftover, checkpoint, live)) {
        return [
          `kept archive segment ${committed + 1}: a compaction wrote it and did not commit; its messages ` +
            `are all still live, and the next commit replaces it`,
        ];
      }
    }
    const list = newer.map(segmentFileName).join(', ');
    throw checkpoint === null
      ? inconsistentError(
          this.#checkpointFile,
          `it is missing, but archive/ holds ${list}, whose messages are not all live: they were committed ` +
            `by a checkpoint that is gone`,
        )
      : inconsistentError(
          this.#checkpointFile,
          `it covers archive segments 1..${committed}, but archive/ also holds ${list}, whose messages ` +
            `are not all live: checkpoint.json is older than the archive`,
        );
  }

  missingError(n: number, last: number): SessionError {
    return inconsistentError(
      this.path(n),
      `it is missing: the archive must hold segments 1..${last} without a gap`,
    );
  }

  async #checked(n: number, previous: ArchiveSegment | null, last: number): Promise<ArchiveSegment> {
    // Deep-frozen (the cache freezes what it keeps): the store hands committed messages out
    // without copying them.
    const segment = this.#cache
      ? await this.#cache.get(this.path(n), () => this.read(n))
      : deepFreeze(await this.read(n));
    if (segment === null) throw this.missingError(n, last);
    const problem = segmentChainProblem(segment, n, previous);
    if (problem !== null) throw inconsistentError(this.path(n), problem);
    return segment;
  }

  #file(n: number): DurableJsonFile<ArchiveSegment> {
    return new DurableJsonFile<ArchiveSegment>(this.path(n), {
      ...this.#options,
      validate: segmentShapeProblem,
      checksum: true,
    });
  }
}
