/**
 * The types of a `JournaledChatFile` (journaled-chat-file.ts): its options, the figures it reports
 * about its journal, and a batch of appends waiting for their write.
 */
import type { Message } from '../core/types.js';

/** Options of `JournaledChatFile` (journaled-chat-file.ts). */
export interface JournaledChatFileOptions {
  /** fdatasync every append and snapshot (default true). */
  durable?: boolean;
  readOnly?: boolean;
  /** The log is folded into the snapshot once it is larger than this and than the snapshot. Default 256 KiB. */
  foldMinBytes?: number;
  /** The store's root: the files' directory may not lead outside it through a symbolic link. */
  root?: string;
  /** Where a small append's fdatasync is made: see the store's option `syncAppends`. Default `'thread-pool'`. */
  syncAppends?: 'thread-pool' | 'calling-thread';
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

/** @internal Appends queued behind a running operation, written together (one fdatasync). */
export interface AppendBatch {
  messages: Message[];
  /** Seqs among them written without their count (see chat-counts.ts). */
  uncounted: number[];
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/** @internal The records appended while a background fold runs (`count` of them): its new log. */
export interface FoldTail {
  records: Buffer[];
  count: number;
}
