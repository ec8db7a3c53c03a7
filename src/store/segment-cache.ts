/**
 * @internal Archive segments are immutable once committed, so a store reads each one from disk
 * once and serves it from memory after that, within a byte budget (least recently used first
 * out). An entry is trusted only while the file is the one it was read from (same inode, size and
 * modification time, one `lstat`): a segment restored, replaced or damaged by hand is read and
 * checked again, so that damage is still reported on every read.
 */
import { lstat } from 'node:fs/promises';
import type { ArchiveSegment } from '../core/types.js';
import { deepFreeze } from './freeze.js';

interface Entry {
  stamp: string;
  bytes: number;
  segment: ArchiveSegment;
}

/** @internal A cache of parsed segments by file, shared by the sessions of one store. */
export class SegmentCache {
  readonly #budget: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(budgetBytes = 64 * 1024 * 1024) {
    this.#budget = budgetBytes;
  }

  /** The segment in `file`, from memory when the file has not changed, else from `read`. */
  async get(file: string, read: () => Promise<ArchiveSegment | null>): Promise<ArchiveSegment | null> {
    const info = await lstat(file, { bigint: true }).catch(() => null);
    if (info === null) {
      this.#drop(file);
      return read();
    }
    const stamp = `${info.ino}:${info.size}:${info.mtimeNs}`;
    const cached = this.#entries.get(file);
    if (cached && cached.stamp === stamp) {
      // Most recently used last.
      this.#entries.delete(file);
      this.#entries.set(file, cached);
      return cached.segment;
    }
    this.#drop(file);
    const segment = await read();
    if (segment !== null) this.#put(file, { stamp, bytes: Number(info.size), segment: deepFreeze(segment) });
    return segment;
  }

  #put(file: string, entry: Entry): void {
    if (entry.bytes > this.#budget) return;
    this.#entries.set(file, entry);
    this.#bytes += entry.bytes;
    for (const [key, old] of this.#entries) {
      if (this.#bytes <= this.#budget) break;
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
  }

  #drop(file: string): void {
    const old = this.#entries.get(file);
    if (!old) return;
    this.#entries.delete(file);
    this.#bytes -= old.bytes;
  }
}
