/**
 * The session store as a contract on data: what the runtime asks of any place sessions are kept
 * (JSON files on a disk, memory, a keyed durable actor on a remote engine). Every method takes
 * and returns plain JSON data; no file handle, class or callback crosses it, so that a store in
 * another process or on another machine can implement it as it is.
 *
 * Guarantees every store gives (checked by `dagent-sessions/conformance`):
 * - an acknowledged write is durable: once `append`, `commit` or a `write*` resolves, a later
 *   `load` (by this store or, where `capabilities.persistent`, a store opened on the same storage
 *   after a crash) sees it;
 * - `append` keeps call order per session and refuses seqs that do not increase;
 * - `commit` is atomic: a later `load` sees the session before it or after it, never in between,
 *   whatever step a crash stopped it at; messages appended while it runs are kept;
 * - every message appended is, at any moment, exactly once in archive + live, in seq order;
 * - the archive and every checkpoint version are immutable once committed;
 * - what goes in is copied: a caller that edits an object after passing it changes nothing
 *   stored, and what comes out is the caller's to keep;
 * - failures are `SessionError`s with a stable code: `SESSION_NOT_FOUND` for an absent session,
 *   `CORRUPT_FILE` for stored data that is damaged or does not add up (never silently dropped),
 *   `IO_ERROR` when the storage fails (nothing acknowledged; but with `details.outcome`
 *   `'in-place-not-durable'` the write is in the storage, a load shows it, and a power loss may undo
 *   it: the store then takes only appends to that session until it is loaded again, refusing the
 *   rest with `'refused-in-doubt'`), `INVALID_ARGUMENT` for a write the
 *   store refuses (read-only, an existing session, a commit that does not follow the last one),
 *   `INVALID_MESSAGE` for an append that is not whole (a seq that does not increase, a `tokens`
 *   that is not a finite number >= 0), `ROOT_LOCKED` for a second writer where
 *   `capabilities.writers` is `'exclusive'`.
 */
import type {
  AgentDescription,
  ArchiveSegment,
  CheckResult,
  Checkpoint,
  Message,
  SessionContext,
  SessionKey,
  SessionRecord,
} from '../core/types.js';

/**
 * What a store can do; the conformance suite picks its cases by it.
 *
 * @example
 * ```ts
 * const capabilities: StoreCapabilities = { persistent: true, writers: 'exclusive', readers: true, steps: true }
 * ```
 */
export interface StoreCapabilities {
  /** A store opened again on the same storage (after `close()`, or after a crash) sees what was acknowledged. */
  persistent: boolean;
  /**
   * What a second writer on the same storage meets: `'exclusive'`, refused with `ROOT_LOCKED`
   * naming the holder (the JSON-file store: one writer per root; the memory store: one per
   * storage object); `'shared'`, accepted, the storage serialising writes per session (a keyed
   * single-writer actor).
   */
  writers: 'exclusive' | 'shared';
  /** Read-only instances (`readOnly: true`) read the same storage while a writer writes. */
  readers: boolean;
  /** The store calls {@link StoreHooks.step} at every step of a commit and an append. */
  steps: boolean;
  /**
   * The store keeps everything in files under one directory (the conformance storage's
   * `directory`) and calls {@link StoreHooks.synced} after every fdatasync/fsync it makes of a file
   * or a directory there, so that the suite can apply what a power loss leaves after each (POSIX
   * rules: data not fdatasynced and directory entries (new, renamed, removed) not fsynced are gone).
   * Default false.
   */
  syncs?: boolean;
}

/**
 * Test hooks a store accepts when it is opened (never in production): `step` is called after
 * each durable step of a write, and may throw to stop the write there, as a crash would. The
 * store then writes nothing more for that call (no clean-up, no rollback), and rejects it with
 * what `step` threw.
 *
 * Step names are the store's own (`'segment'`, `'checkpoint-version'`, `'checkpoint'` for the
 * JSON-file store's commit); the conformance suite learns them by recording a first run.
 */
export interface StoreHooks {
  step?(operation: 'append' | 'commit', step: string, sessionId: string): void;
  /**
   * Called (by a store whose `capabilities.syncs`) right after an fdatasync or fsync of `path`
   * returned: a file's data (`'file'`, called with the name the file had when it was synced, a
   * temporary one included) or a directory's entries (`'directory'`) are durable now. Reads the
   * disk synchronously if it likes; must not throw. When it returns a promise, the store waits for
   * it before that write goes on (its other writes in flight do not wait): the suite holds a sync
   * in flight that way, to see what the store does meanwhile. Nothing else is reported: what was
   * written, created, renamed or removed and not synced since is what a power loss may take.
   */
  synced?(kind: 'file' | 'directory', path: string): void | Promise<void>;
}

/**
 * A token count the runtime persisted with a piece of a session, so that reading a session never
 * needs a tokenizer. `hash` identifies what was counted (the runtime's choice: a checksum of the
 * rendered text); a reader trusts the count only when its own hash and `counter` match. Stores
 * keep counts as given and never compute them.
 */
export interface TokenCount {
  tokens: number;
  /** Who counted: the estimator's name (`tiktoken:cl100k_base`). */
  counter: string;
  hash: string;
}

/** The persisted counts of a session's fixed parts; null where none was written. */
export interface SessionCounts {
  description: TokenCount | null;
  context: TokenCount | null;
  checkpoint: TokenCount | null;
}

/** Whether a session is there without reading it: absent, present, or damaged (its files exist without a record). */
export type SessionPresence = 'absent' | 'present' | 'damaged';

/**
 * A loaded session: everything the runtime needs to serve it, read once.
 */
export interface SessionHead {
  record: SessionRecord;
  checkpoint: Checkpoint | null;
  context: SessionContext | null;
  agentDescription: AgentDescription | null;
  /** Live messages (not archived), oldest first. */
  messages: Message[];
  /** Seq of the last archived message; -1 before any. */
  archivedThroughSeq: number;
  /** Seq of the last message appended; -1 for an empty session. */
  lastSeq: number;
  counts: SessionCounts;
  /** What load repaired after a crash (it never deletes data); empty for most stores. */
  repairs: string[];
  /** What load found and left (a segment of a commit that did not complete). */
  notes: string[];
  /** Torn records dropped at load (writes cut by a crash, never acknowledged). */
  tornRecordsDropped: number;
  /**
   * Seqs of live messages appended as `uncounted` whose exact count the store does not hold (it
   * was lost to a crash before it was written, or not recorded yet): their `tokens` is an upper
   * bound (the one they were appended with, or `textTokenBound` of their content), never a count,
   * and the caller counts them again ({@link SessionStore.recordCounts}).
   */
  uncounted?: readonly number[];
}

/** Options of {@link SessionStore.append}. */
export interface AppendOptions {
  /**
   * Seqs of messages whose `tokens` is an upper bound, their exact count not known yet: the store
   * never persists a bound as a count; the count comes later by {@link SessionStore.recordCounts}.
   */
  uncounted?: readonly number[];
}

/** What `list()` says of a session without loading it: the figures as stored now. */
export interface SessionSummary {
  id: string;
  key: SessionKey;
  status: SessionRecord['status'];
  createdAt: string;
  updatedAt: string;
  messages: { total: number; live: number; archived: number };
  tokens: { total: number; live: number; archived: number };
  checkpointVersion: number;
  /** When the current checkpoint was written; null without one. */
  lastCompactionAt: string | null;
  /** The request size the record holds (written at close and compaction). */
  lastRequestTokens: number;
  /** Seq of the last archived message; -1 before any. */
  archivedThroughSeq: number;
  lastSeq: number;
}

/** One entry of `list()`: a summary, or why the session could not be summarised (damage). */
export type SessionListing =
  | { id: string; summary: SessionSummary; error: null }
  | {
      id: string;
      summary: null;
      error: { code: string; message: string; details?: Record<string, unknown> };
    };

/** What a new session starts with besides its record. */
export interface InitialFiles {
  context?: SessionContext;
  agentDescription?: AgentDescription;
  /** A version-0 checkpoint (nothing archived). */
  checkpoint?: Checkpoint;
  counts?: Partial<SessionCounts>;
}

/**
 * A commit: archive `segment` (when not null) and make `checkpoint` current, as one atomic step.
 * The segment holds exactly the live messages from the first live one through `segment.lastSeq`
 * (numbered one past the last committed segment); the checkpoint commits it (`compactionInfo.segment`
 * and `archivedThroughSeq`) and has a higher version. Compaction, clear and reset all commit.
 */
export interface SessionCommit {
  segment: ArchiveSegment | null;
  checkpoint: Checkpoint;
  /**
   * Keep the checks the store holds (recorded while a compaction ran) instead of the
   * checkpoint's own. Default true; a reset passes false.
   */
  keepChecks?: boolean;
}

/** What a commit made current. */
export interface CommitResult {
  /**
   * The checkpoint as stored (with the checks kept). Read-only: a store may hand out the object it
   * keeps, deep-frozen (the JSON-file store does), or a copy (the memory store); copy it to change it.
   */
  checkpoint: Checkpoint;
}

/**
 * A range of the archive: messages with `after < seq < before`, at most `limit` of them, the
 * newest of the range first when `order` is `'desc'`.
 */
export interface ArchiveQuery {
  after?: number;
  before?: number;
  limit?: number;
  order?: 'asc' | 'desc';
}

/** A page of the archive. */
export interface ArchivePage {
  /** In the order asked for. */
  messages: Message[];
  /** Whether the archive holds more messages in the range beyond the limit. */
  more: boolean;
  /** Seq of the last archived message when the page was read. */
  archivedThroughSeq: number;
}

/**
 * Where sessions are kept: the store contract. Implementations: `JsonFileSessionStore` (files
 * under `<root>/.dagent/sessions/`), `createMemorySessionStore` (memory, for tests and for hosts
 * that persist elsewhere); `dagent-sessions/conformance` checks any other.
 *
 * One writer per session at a time: the runtime that loaded a session is the only one that
 * writes it (a second writer is refused or serialised, see {@link StoreCapabilities.writers}).
 * Writes to one session may be issued concurrently; `append`s keep their call order.
 *
 * @example
 * ```ts
 * const store = await JsonFileSessionStore.open({ root: '/repo' })
 * const head = await store.load('feature--f1--pm')
 * await store.append(head.record.id, [{ ...message, seq: head.lastSeq + 1 }])
 * const page = await store.readArchive(head.record.id, { limit: 50, order: 'desc' })
 * await store.close()
 * ```
 */
export interface SessionStore {
  readonly capabilities: StoreCapabilities;
  /** Where the store keeps its data, for messages (a directory, a URL, `memory`). */
  readonly location: string;
  readonly readOnly: boolean;

  /**
   * Every session with its figures as stored now, sorted by id; a damaged one with its error.
   * Loads no session.
   */
  list(): Promise<SessionListing[]>;
  /** @throws SessionError `INVALID_KEY` for an unsafe id. */
  presence(id: string): Promise<SessionPresence>;
  /**
   * Creates a session (its record last, so a cut-short create leaves no session) and loads it.
   * @throws SessionError `INVALID_ARGUMENT` when it exists; `CORRUPT_FILE` when it is damaged.
   */
  create(record: SessionRecord, files?: InitialFiles): Promise<SessionHead>;
  /**
   * Reads a session. A session is loaded again by every call (another process may have written);
   * a store may hand the first load after its own `create` what that create wrote, when no other
   * writer can have changed it since (the JSON-file store, under its root lock).
   * @throws SessionError `SESSION_NOT_FOUND`, `CORRUPT_FILE`, `IO_ERROR`.
   */
  load(id: string): Promise<SessionHead>;
  /**
   * Appends messages after the last one; durable when it resolves.
   * @throws SessionError `INVALID_MESSAGE` for a seq that does not increase, a message that is not
   *   whole (its `tokens` not a finite number >= 0, among the rest), or an uncounted seq that is not
   *   one of the messages appended (nothing written); `IO_ERROR`.
   */
  append(id: string, messages: readonly Message[], options?: AppendOptions): Promise<void>;
  /**
   * Optional: records the exact counts of messages appended as `uncounted`; the messages read
   * from then on hold them. They need not be durable when it resolves (the JSON-file store writes
   * them with the next append or at close): after a crash the messages come back in
   * {@link SessionHead.uncounted}. A store without it is given exact counts only. A count for a
   * message that is not uncounted (counted already, archived, unknown) changes nothing.
   * @throws SessionError `INVALID_ARGUMENT` for a count that is not one (a seq not an integer >= 0,
   *   tokens not a finite number >= 0): nothing recorded.
   */
  recordCounts?(id: string, counts: readonly { seq: number; tokens: number }[]): Promise<void>;
  /**
   * Commits a compaction, clear or reset (see {@link SessionCommit}), atomically; durable when it
   * resolves. What a store tidies after its commit point (the JSON-file store rewrites chat.json
   * without the archived messages, in the background) changes nothing a load sees; `close` waits.
   * @throws SessionError `INVALID_ARGUMENT` for a commit that does not follow the committed one, or
   *   whose segment would drop or change a live message; `IO_ERROR` (nothing committed, unless
   *   `details.outcome` is `'in-place-not-durable'`: see the guarantees above); `CORRUPT_FILE`.
   */
  commit(id: string, commit: SessionCommit): Promise<CommitResult>;
  writeContext(id: string, context: SessionContext): Promise<void>;
  writeAgentDescription(id: string, description: AgentDescription): Promise<void>;
  /** Replaces the record (status, figures); it is not written per append. */
  writeRecord(id: string, record: SessionRecord): Promise<void>;
  /** Persists token counts (see {@link TokenCount}); the others are kept. */
  writeCounts(id: string, counts: Partial<SessionCounts>): Promise<void>;
  /**
   * Records checks in the current checkpoint (replacing those with the same `checkId`, `at`
   * defaulting to `now`), creating a version-0 checkpoint when there is none. Returns it.
   */
  recordChecks(id: string, checks: readonly CheckResult[], now: string): Promise<Checkpoint>;
  /**
   * A page of archived messages.
   * @throws SessionError `CORRUPT_FILE` when a segment it needs is missing or damaged (every call).
   */
  readArchive(id: string, query?: ArchiveQuery): Promise<ArchivePage>;
  /** Archive segment `n` (1-based, committed), or null beyond the last one. */
  readSegment(id: string, n: number): Promise<ArchiveSegment | null>;
  /**
   * A checkpoint version, or the current one without `version`; null when the store does not
   * have it (sessions written before versions were kept have only the current one).
   */
  readCheckpoint(id: string, version?: number): Promise<Checkpoint | null>;
  /** The checkpoint versions the store can read, ascending. */
  checkpointVersions(id: string): Promise<number[]>;
  /** The runtime is done with the session for now: flush and free what the store holds for it. */
  release(id: string): Promise<void>;
  /** Releases every session and the storage (the JSON-file store's root lock). */
  close(): Promise<void>;
}
