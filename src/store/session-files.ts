/**
 * What a session's directory is made of, apart from how it is read and written: the store's
 * options and those its files share, what a load returns, and the checks each JSON file's content must pass before it
 * is taken (a file that fails one is damaged and set aside, see corrupt.ts).
 * @internal
 */
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { AgentDescription, Checkpoint, Message, SessionContext, SessionRecord } from '../core/types.js';
import type { SessionCounts, StoreHooks, TokenCount } from './contract.js';
import type { SegmentCache } from './segment-cache.js';

/**
 * Options of `JsonFileSessionStore.open` (session-store.ts). A name that is none of these is refused
 * with `INVALID_ARGUMENT` (a misspelt `readonly` does not open a writer).
 */
export interface SessionStoreOptions {
  /** Directory whose `.dagent/sessions/` holds the sessions. */
  root: string;
  /** Open without the write lock; every write is refused. Default false. */
  readOnly?: boolean;
  /** fsync files and directories (default true). Turn off only for throwaway data. */
  durable?: boolean;
  /** Log size past which chat.log is folded into chat.json (default 256 KiB). */
  foldMinBytes?: number;
  /**
   * Which thread waits for an append's fdatasync. `'thread-pool'` (the default): libuv's pool, and
   * the event loop runs meanwhile. `'calling-thread'`: an append of up to 32 KiB, written on the
   * calling thread as always, is fdatasynced there too (`fdatasyncSync`), then the event loop turns
   * once before the append resolves. A lone append is acknowledged sooner (one trip through the pool
   * less), but the event loop is blocked for the whole flush: about 0.5 ms on average on an SSD, tens
   * of ms when other writes crowd the disk, seconds on a disk that stalls, and a stalling disk stalls
   * the host (its timers, sockets and every other session). Appends to many sessions at once flush
   * one after another, and counting overlaps the flush less: measured in docs/architecture.md, "The
   * flush on the calling thread (round 12)". Choose it only for a process that appends one message
   * at a time and has nothing else to serve meanwhile (a CLI, a worker of its own); never for an
   * Electron main process or a server with other clients. Larger appends, folds, commits and every
   * other write keep the pool; without `durable` there is nothing to flush.
   */
  syncAppends?: 'thread-pool' | 'calling-thread';
  /** Shown to a second writer that is refused. */
  description?: string;
  /** Bytes of archive segments kept in memory across reads (default 64 MiB; 0 for none). */
  segmentCacheBytes?: number;
  /** Test hooks (the conformance suite's crash cases); see {@link StoreHooks}. */
  hooks?: StoreHooks;
}

/** Every option of {@link SessionStoreOptions} (the compiler keeps this in step with the type). */
const STORE_OPTION_NAMES = optionNames({
  root: true,
  readOnly: true,
  durable: true,
  foldMinBytes: true,
  syncAppends: true,
  description: true,
  segmentCacheBytes: true,
  hooks: true,
} satisfies Record<keyof SessionStoreOptions, true>);

/**
 * @internal Refuses store options a typo or a computed NaN would otherwise turn into a silent
 * default (an unknown `syncAppends`, a misspelt `readonly`) or a log that never folds (`foldMinBytes: NaN`).
 * @throws SessionError `INVALID_ARGUMENT` naming the option, the value and what it takes, or a name
 *   that is none of the options.
 */
export function checkStoreOptions(options: SessionStoreOptions): void {
  // A misspelt `readonly` would otherwise open a writer and take the root's lock.
  checkOptionNames(
    options,
    STORE_OPTION_NAMES,
    (what) => new SessionError('INVALID_ARGUMENT', 'store', `the store's options: ${what}`),
  );
  const { syncAppends, foldMinBytes, segmentCacheBytes } = options;
  const bad = (name: string, value: unknown, takes: string) =>
    new SessionError('INVALID_ARGUMENT', 'store', `${name} must be ${takes}, got ${String(value)}`);
  if (syncAppends !== undefined && syncAppends !== 'thread-pool' && syncAppends !== 'calling-thread') {
    throw bad('syncAppends', syncAppends, "'thread-pool' (the default) or 'calling-thread'");
  }
  for (const [name, value] of [
    ['foldMinBytes', foldMinBytes],
    ['segmentCacheBytes', segmentCacheBytes],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && value >= 0)) {
      throw bad(name, value, 'a number of bytes, 0 or more');
    }
  }
}

/** Options shared by the store's files. */
export interface FileOptions {
  durable: boolean;
  readOnly: boolean;
  /** See {@link JournaledChatFile}. */
  foldMinBytes?: number;
  /** See `SessionStoreOptions.syncAppends`. */
  syncAppends?: 'thread-pool' | 'calling-thread';
  /** The store's root, that no session file may lead outside of (see assertInsideRoot). */
  root?: string;
  /** Committed archive segments read before (shared by the store's sessions). */
  cache?: SegmentCache;
  /** Test hooks (crash cases): see {@link StoreHooks}. */
  hooks?: StoreHooks;
}

/** Everything a session actor needs after a load. */
export interface LoadedSession {
  record: SessionRecord;
  /** Live messages (not archived), oldest first. */
  messages: readonly Message[];
  checkpoint: Checkpoint | null;
  context: SessionContext | null;
  agentDescription: AgentDescription | null;
  /** Token counts persisted with description, context and checkpoint (counts.json). */
  counts: SessionCounts;
  /** Seq of the last archived message, -1 when none. */
  archivedThroughSeq: number;
  /** What load repaired after a crash (archived messages dropped from chat); it deletes no file. */
  repairs: string[];
  /**
   * What load found and left as it is: a segment written by a commit that did not complete (its
   * messages are all still live; the next commit replaces it).
   */
  notes: string[];
  tornRecordsDropped: number;
  /** Seqs of live messages appended before their count was known whose count is not on disk. */
  uncounted: number[];
}

/** The counts of a session that has none persisted yet. */
export const NO_COUNTS: SessionCounts = { description: null, context: null, checkpoint: null };

/** context.json, agent-description.json: any JSON object. Returns the problem, or null. */
export function isObject(value: unknown): string | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? null
    : 'must hold a JSON object';
}

/** session.json: an object with an id and a key. */
export function validateRecord(value: unknown): string | null {
  const problem = isObject(value);
  if (problem) return problem;
  const v = value as Partial<SessionRecord>;
  if (typeof v.id !== 'string' || typeof v.key !== 'object' || v.key === null) return 'needs "id" and "key"';
  return null;
}

/** counts.json: each member `{ tokens, counter, hash }` or null. */
export function validateCounts(value: unknown): string | null {
  const problem = isObject(value);
  if (problem) return problem;
  for (const [name, count] of Object.entries(value as Record<string, unknown>)) {
    if (count === null) continue;
    const c = count as Partial<TokenCount> | undefined;
    if (
      typeof c !== 'object' ||
      typeof c.tokens !== 'number' ||
      typeof c.counter !== 'string' ||
      typeof c.hash !== 'string'
    )
      return `"${name}" must be { tokens, counter, hash } or null`;
  }
  return null;
}

/** checkpoint.json and its kept versions: what checkpoint-schema.ts accepts. */
export function validateCheckpoint(value: unknown): string | null {
  const problems = checkpointProblems(value);
  return problems.length === 0 ? null : problems.join('; ');
}
