/**
 * One session's directory, `<root>/.dagent/sessions/<id>/`, through lowdb adapters: session.json,
 * chat.json (+ chat.log), checkpoint.json, context.json, agent-description.json and archive/.
 *
 * The compaction commit writes archive segment, then checkpoint (the commit point), then chat;
 * memory follows only once the checkpoint is durable, so a failed commit leaves the session as it
 * was and a retry commits once. Load recognises what a crash or a failed commit leaves (the rules
 * are in archive-rules.ts) and deletes nothing: a segment newer than the checkpoint is kept when
 * its messages are all still live (the next commit replaces it), and anything else that does not
 * add up (a missing or older checkpoint, a gap in the archive, missing messages) is reported as
 * `CORRUPT_FILE` naming the file and what to do.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { createOneAtATime } from '../core/one-at-a-time.js';
import { SessionError } from '../core/errors.js';
import type {
  AgentDescription,
  ArchiveSegment,
  CheckResult,
  ChatFile,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import { ArchiveDirectory } from './archive-directory.js';
import { readArchivePage } from './archive-pages.js';
import { CheckpointHistory } from './checkpoint-history.js';
import type {
  ArchivePage,
  ArchiveQuery,
  SessionCounts,
  SessionPresence,
  StoreHooks,
  TokenCount,
} from './contract.js';
import type { SegmentCache } from './segment-cache.js';
import { isOrphanSegment, messagesProblem, notArchived, segmentShapeProblem } from './archive-rules.js';
import { corruptFileError, inconsistentError, setAside } from './corrupt.js';
import {
  assertInsideRoot,
  assertNothingSetAside,
  assertPlainFiles,
  missingRecordError,
  sessionDataFound,
} from './directory-guards.js';
import { ensureDir, isErrno } from './durable-fs.js';
import { DurableJsonFile, persist, reread } from './durable-json-file.js';
import { ioError } from './io-error.js';
import { JournaledChatFile, emptyChat, type JournalStats } from './journaled-chat-file.js';
import { repairSession } from './session-repair.js';

export { segmentFileName } from './archive-directory.js';

/** Options shared by the store's files. */
export interface FileOptions {
  durable: boolean;
  readOnly: boolean;
  /** See {@link JournaledChatFile}. */
  foldMinBytes?: number;
  /** The store's root, that no session file may lead outside of (see assertInsideRoot). */
  root?: string;
  /** Committed archive segments read before (shared by the store's sessions). */
  cache?: SegmentCache;
  /** Test hooks (crash cases): see {@link StoreHooks}. */
  hooks?: StoreHooks;
}

/**
 * Whether a directory holds a session: `absent` (nothing, or only what a createSession cut short
 * writes before session.json: context.json, agent-description.json), `present` (session.json is
 * there), or `damaged` (session files without a plain session.json, or one set aside).
 */
export type { SessionPresence } from './contract.js';

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

const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function isObject(value: unknown): string | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? null
    : 'must hold a JSON object';
}

function validateRecord(value: unknown): string | null {
  const problem = isObject(value);
  if (problem) return problem;
  const v = value as Partial<SessionRecord>;
  if (typeof v.id !== 'string' || typeof v.key !== 'object' || v.key === null) return 'needs "id" and "key"';
  return null;
}

function validateCounts(value: unknown): string | null {
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

const NO_COUNTS: SessionCounts = { description: null, context: null, checkpoint: null };

function validateCheckpoint(value: unknown): string | null {
  const problems = checkpointProblems(value);
  return problems.length === 0 ? null : problems.join('; ');
}

/**
 * The files of one session. Create with {@link JsonFileSessionStore.session}; call `load()`
 * (or `create()`) before anything else.
 */
export class SessionDirectory {
  readonly id: string;
  readonly dir: string;
  readonly #root: string;
  /** Why the last load failed, or null: appends wait for a load that succeeds. */
  #loadFailure: unknown = null;
  readonly #options: FileOptions;
  readonly #record: Low<SessionRecord | null>;
  readonly #chatAdapter: JournaledChatFile;
  readonly #chat: Low<ChatFile>;
  readonly #checkpoint: Low<Checkpoint | null>;
  readonly #context: Low<SessionContext | null>;
  readonly #description: Low<AgentDescription | null>;
  readonly #counts: Low<SessionCounts | null>;
  readonly #archive: ArchiveDirectory;
  readonly #history: CheckpointHistory;

  constructor(sessionsDir: string, id: string, options: FileOptions) {
    this.id = id;
    this.dir = path.join(sessionsDir, id);
    this.#root = path.resolve(sessionsDir, '..', '..');
    this.#options = options;
    const json = <T>(name: string, validate: (v: unknown) => string | null) =>
      new Low<T | null>(
        new DurableJsonFile<T | null>(path.join(this.dir, name), { ...options, validate, checksum: true }),
        null,
      );
    // Every file carries a checksum; a person who edits one by hand deletes its "$crc32" member.
    this.#record = json<SessionRecord>('session.json', validateRecord);
    this.#checkpoint = json<Checkpoint>('checkpoint.json', validateCheckpoint);
    this.#context = json<SessionContext>('context.json', isObject);
    this.#description = json<AgentDescription>('agent-description.json', isObject);
    this.#counts = json<SessionCounts>('counts.json', validateCounts);
    this.#chatAdapter = new JournaledChatFile(
      path.join(this.dir, 'chat.json'),
      path.join(this.dir, 'chat.log'),
      options,
    );
    this.#chat = new Low<ChatFile>(this.#chatAdapter, emptyChat());
    this.#archive = new ArchiveDirectory(
      path.join(this.dir, 'archive'),
      this.#file('checkpoint.json'),
      options,
      options.cache ?? null,
    );
    this.#history = new CheckpointHistory(this.checkpointsDir, options, validateCheckpoint);
  }

  get archiveDir(): string {
    return path.join(this.dir, 'archive');
  }

  /** Where every checkpoint version is kept: `checkpoints/NNNNNN.json`. */
  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }

  /** The token counts persisted with the session's fixed parts. */
  get counts(): SessionCounts {
    return { ...NO_COUNTS, ...this.#counts.data };
  }

  /**
   * Live messages held in memory (only those on disk), without any the checkpoint has archived:
   * after a commit whose chat fold failed, chat still holds them until the next fold.
   */
  get messages(): readonly Message[] {
    const live = this.#chatAdapter.data.messages;
    const through = this.#checkpoint.data?.compactionInfo.archivedThroughSeq ?? -1;
    if (live.length === 0 || live[0]!.seq > through) return live;
    return live.filter((m) => m.seq > through);
  }

  get record(): SessionRecord | null {
    return this.#record.data;
  }

  get checkpoint(): Checkpoint | null {
    return this.#checkpoint.data;
  }

  get context(): SessionContext | null {
    return this.#context.data;
  }

  get agentDescription(): AgentDescription | null {
    return this.#description.data;
  }

  get journal(): JournalStats {
    return this.#chatAdapter.stats;
  }

  /**
   * Whether the directory holds a session, without reading it: see {@link SessionPresence}.
   * @throws SessionError `CORRUPT_FILE` when the directory is a link leading out of the root.
   */
  async presence(): Promise<SessionPresence> {
    await this.#assertInsideRoot();
    const info = await lstat(this.#file('session.json')).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    });
    if (info !== null) return info.isFile() ? 'present' : 'damaged';
    return (await sessionDataFound(this.dir)).length > 0 ? 'damaged' : 'absent';
  }

  /**
   * Whether session.json exists. A damaged session is neither: it throws, so that no caller takes
   * it for an absent one and creates a session over its files.
   * @throws SessionError `CORRUPT_FILE` when {@link presence} is `damaged`, naming session.json
   *   and what to do.
   */
  async exists(): Promise<boolean> {
    const presence = await this.presence();
    if (presence === 'damaged') throw await missingRecordError(this.dir, this.id);
    return presence === 'present';
  }

  /**
   * Creates the session's directory (durably), before its files are written.
   * @throws SessionError `CORRUPT_FILE` for a damaged session (see {@link exists}).
   */
  async prepare(): Promise<void> {
    this.#assertWritable();
    if ((await this.presence()) === 'damaged') throw await missingRecordError(this.dir, this.id);
    await ensureDir(this.dir);
  }

  /**
   * Reads session.json only: what listing sessions needs, without loading messages.
   * @throws SessionError `SESSION_NOT_FOUND`, `CORRUPT_FILE`
   */
  async readRecord(): Promise<SessionRecord> {
    await this.#assertInsideRoot();
    const record = await reread(this.#record);
    if (record === null) throw await missingRecordError(this.dir, this.id);
    return record;
  }

  /**
   * Creates the directory and session.json (durably). `prepared`: {@link prepare} checked the
   * directory before the session's first files (an initial checkpoint) were written, which would
   * otherwise make it look damaged now.
   * @throws SessionError `CORRUPT_FILE` for a damaged session (see {@link exists}).
   */
  async create(record: SessionRecord, options: { prepared?: boolean } = {}): Promise<void> {
    this.#assertWritable();
    if (!options.prepared && (await this.presence()) === 'damaged')
      throw await missingRecordError(this.dir, this.id);
    await ensureDir(this.dir);
    await persist(this.#record, record);
  }

  /**
   * Reads every file, checks that they add up, recognises what a crash or a failed commit left
   * half-done, and returns the session. Deletes nothing.
   * @throws SessionError `SESSION_NOT_FOUND` for an absent session; `CORRUPT_FILE` for a file that
   *   is damaged (set aside), one set aside earlier and not yet dealt with, or files that do not
   *   add up (missing session.json, checkpoint or segment, an archive the checkpoint does not
   *   cover, missing messages).
   */
  async load(): Promise<LoadedSession> {
    for (let attempt = 1; ; attempt++) {
      try {
        const loaded = await this.#loadOnce();
        this.#loadFailure = null;
        return loaded;
      } catch (error) {
        // A read-only reader may see a writer in the middle of a commit (two commits between its
        // reads): files that do not add up are read again before they are called damaged.
        const inconsistent = error instanceof SessionError && error.details.inconsistent === true;
        if (!this.#options.readOnly || !inconsistent || attempt >= 3) {
          this.#loadFailure = error;
          throw error;
        }
      }
    }
  }

  async #loadOnce(): Promise<LoadedSession> {
    await this.#assertInsideRoot();
    await assertNothingSetAside(this.dir);
    await assertNothingSetAside(this.archiveDir);
    await assertPlainFiles(this.dir, this.#options.readOnly);
    const record = await reread(this.#record);
    if (record === null) throw await missingRecordError(this.dir, this.id);
    if (!this.#options.readOnly) await this.#removeStaleTemporaries();
    await reread(this.#context);
    await reread(this.#description);
    // Counts are hints (a reader checks their hash): a damaged counts.json is set aside and ignored.
    await reread(this.#counts).catch((error: unknown) => {
      if (!(error instanceof SessionError && error.code === 'CORRUPT_FILE')) throw error;
      this.#counts.data = null;
    });
    // Chat before the checkpoint: a commit writes the checkpoint before it folds chat, so chat
    // read first holds every message the checkpoint read next has not archived.
    await this.#chat.read();
    this.#chat.data = this.#chatAdapter.data;
    await this.#checkChat();
    await reread(this.#checkpoint);
    const repairs: string[] = [];
    const notes = await this.#archive.checkListing(this.#checkpoint.data, this.messages);
    await this.#checkNothingMissing(record);
    await this.#dropArchivedFromChat(repairs);
    if (!this.#options.readOnly) await this.#keepHandEdit(notes);
    return {
      record,
      messages: this.messages,
      checkpoint: this.#checkpoint.data,
      context: this.#context.data,
      agentDescription: this.#description.data,
      counts: this.counts,
      archivedThroughSeq: this.#archivedThroughSeq(),
      repairs,
      notes,
      tornRecordsDropped: this.#chatAdapter.stats.tornRecordsDropped,
      uncounted: [...this.#chatAdapter.uncounted].filter((seq) => seq > this.#archivedThroughSeq()),
    };
  }

  /**
   * Appends messages durably; resolves once they are on disk. Those in `uncounted` are written
   * without their `tokens` (an upper bound, see {@link recordCounts}).
   */
  async appendMessages(messages: readonly Message[], uncounted?: readonly number[]): Promise<void> {
    this.#assertWritable();
    // A session whose files did not load is not appended to until a load succeeds.
    if (this.#loadFailure !== null) throw this.#loadFailure;
    await this.#chatAdapter.append(messages, uncounted);
    this.#step('append', 'log');
  }

  /** Exact counts of messages appended as uncounted: held now, written with the next append. */
  recordCounts(counts: readonly { seq: number; tokens: number }[]): void {
    this.#assertWritable();
    this.#chatAdapter.recordCounts(counts);
  }

  /** Writes counts.json with `counts` over the counts held. */
  async writeCounts(counts: Partial<SessionCounts>): Promise<void> {
    this.#assertWritable();
    await persist(this.#counts, { ...this.counts, ...counts });
  }

  /** Writes session.json. Not on the append path: figures there are derivable. */
  async writeRecord(record: SessionRecord): Promise<void> {
    this.#assertWritable();
    await persist(this.#record, record);
  }

  async writeContext(context: SessionContext): Promise<void> {
    this.#assertWritable();
    await persist(this.#context, context);
  }

  async writeAgentDescription(description: AgentDescription): Promise<void> {
    this.#assertWritable();
    await persist(this.#description, description);
  }

  /**
   * Replaces checkpoint.json without archiving anything (a re-compressed checkpoint, a reset).
   * With `keepChecks`, the checks on disk at the moment of writing are kept, so that checks
   * recorded while a compaction ran are not lost by its commit.
   * @throws SessionError `INVALID_ARGUMENT` for a checkpoint a load would reject; `IO_ERROR`.
   */
  async writeCheckpoint(checkpoint: Checkpoint, options: { keepChecks?: boolean } = {}): Promise<void> {
    this.#assertWritable();
    await this.#withCheckpoint(async () => {
      const next = options.keepChecks ? this.#withCurrentChecks(checkpoint) : checkpoint;
      this.#assertValidCheckpoint(next);
      await this.#history.write(next);
      this.#step('commit', 'checkpoint-version');
      await persist(this.#checkpoint, next); // the commit point
      this.#step('commit', 'checkpoint');
    });
  }

  /**
   * Records verification checks in checkpoint.json, replacing those with the same `checkId`;
   * creates a version-0 checkpoint (empty summary) when there is none yet. Returns the checkpoint.
   */
  async recordChecks(
    checks: readonly CheckResult[],
    now: string,
    empty: () => Checkpoint,
  ): Promise<Checkpoint> {
    this.#assertWritable();
    return this.#withCheckpoint(async () => {
      const current = this.#checkpoint.data ?? empty();
      if (this.#checkpoint.data === null) await this.#history.write(current);
      const byId = new Map((current.checks ?? []).map((c) => [c.checkId, c]));
      for (const check of checks) byId.set(check.checkId, { ...check, at: check.at ?? now });
      const next: Checkpoint = { ...current, updatedAt: now, checks: [...byId.values()] };
      this.#assertValidCheckpoint(next);
      await persist(this.#checkpoint, next);
      return next;
    });
  }

  /**
   * Commits a compaction: archive segment, then checkpoint (the commit point), then chat without
   * the archived messages (messages appended meanwhile are kept). Memory changes only once the
   * checkpoint is durable: after a failure the session is as it was, and a retry commits once.
   * A segment file left by a failed attempt is replaced only when all its messages are still
   * live (see archive-rules.ts); anything else there is refused.
   * @throws SessionError `IO_ERROR` when a write fails, or when the segment exists already and
   *   is not such a leftover; `INVALID_ARGUMENT` for a segment or checkpoint that does not follow
   *   the committed one; `CORRUPT_FILE` for a damaged file in the segment's place.
   */
  async commitCompaction(
    segment: ArchiveSegment,
    checkpoint: Checkpoint,
    options: { keepChecks?: boolean } = {},
  ): Promise<void> {
    this.#assertWritable();
    await this.#withCheckpoint(async () => {
      const current = this.#checkpoint.data;
      const committed = current?.compactionInfo.segment ?? 0;
      const file = this.#archive.path(segment.segment);
      if (segment.segment <= committed) {
        throw new SessionError(
          'IO_ERROR',
          'store',
          `archive segment ${file} exists already; segments are immutable`,
        );
      }
      this.#assertFollows(segment, checkpoint, committed);
      await ensureDir(this.archiveDir).catch((error: unknown) => {
        throw ioError(error, this.archiveDir, 'create the directory');
      });
      const leftover = await this.#archive.read(segment.segment);
      if (leftover !== null && !isOrphanSegment(leftover, current, this.messages)) {
        throw new SessionError(
          'IO_ERROR',
          'store',
          `archive segment ${file} exists already and holds messages that are not live; nothing was ` +
            `written. It is newer than checkpoint.json: see the load error of this session for what to ` +
            `do`,
          { details: { file } },
        );
      }
      // A leftover holds nothing that is not live: the atomic rename replaces it.
      await this.#archive.write(segment);
      this.#step('commit', 'segment');
      const next = (options.keepChecks ?? true) ? this.#withCurrentChecks(checkpoint) : checkpoint;
      await this.#history.write(next);
      this.#step('commit', 'checkpoint-version');
      await persist(this.#checkpoint, next); // the commit point
      this.#step('commit', 'checkpoint');
    });
    // Committed. Dropping the archived messages from chat can fail (a full disk) without undoing
    // anything: `messages` hides them already, and the next commit or load folds them away.
    await this.#chatAdapter.dropThrough(segment.lastSeq).catch(() => undefined);
    this.#step('commit', 'chat');
  }

  /**
   * Every archived message, oldest first.
   * @throws SessionError `CORRUPT_FILE` for a damaged or missing segment, or an archive that does
   *   not add up to what checkpoint.json says, on every call until repaired.
   */
  async readArchive(): Promise<Message[]> {
    const messages: Message[] = [];
    for await (const segment of this.readSegments()) messages.push(...segment.messages);
    return messages;
  }

  /**
   * The committed archive segments, oldest first, each checked: present, intact (checksum,
   * shape), numbered in order, continuing the seqs of the one before; and all together adding up
   * to the checkpoint's watermark and count.
   * @throws SessionError `CORRUPT_FILE` as {@link readArchive}.
   */
  async *readSegments(): AsyncGenerator<ArchiveSegment> {
    yield* this.#archive.committed(this.#checkpoint.data);
  }

  /**
   * Committed archive segment `n` (1-based), checked, or null past the last one.
   * @throws SessionError `CORRUPT_FILE` for a missing or damaged segment (every call).
   */
  async readSegment(n: number): Promise<ArchiveSegment | null> {
    const last = this.#checkpoint.data?.compactionInfo.segment ?? 0;
    if (!(Number.isInteger(n) && n >= 1 && n <= last)) return null;
    await assertNothingSetAside(this.archiveDir);
    return this.#archive.readCommitted(n, last);
  }

  /**
   * A page of the archive (see {@link ArchiveQuery}): only the segments it covers are read.
   * Without a limit or a range, every segment is read and the archive checked whole.
   * @throws SessionError `CORRUPT_FILE` as {@link readArchive}.
   */
  async readArchivePage(query: ArchiveQuery = {}): Promise<ArchivePage> {
    const checkpoint = this.#checkpoint.data;
    const through = checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
    const whole = query.after === undefined && query.before === undefined && query.limit === undefined;
    if (whole) {
      const messages = await this.readArchive();
      if (query.order === 'desc') messages.reverse();
      return { messages, more: false, archivedThroughSeq: through };
    }
    const count = checkpoint?.compactionInfo.segment ?? 0;
    await assertNothingSetAside(this.archiveDir);
    return readArchivePage(
      {
        count,
        archivedThroughSeq: through,
        read: (n) => this.#archive.readCommitted(n, count),
        broken: (n, problem) => inconsistentError(this.#archive.path(n), problem),
      },
      query,
    );
  }

  /**
   * Checkpoint `version`, or the current one; null when it is not kept (sessions written before
   * versions were kept have only the current one).
   * @throws SessionError `CORRUPT_FILE` for a damaged copy.
   */
  async readCheckpoint(version?: number): Promise<Checkpoint | null> {
    const current = this.#checkpoint.data;
    if (version === undefined || version === current?.version) return current;
    if (!(Number.isInteger(version) && version >= 0) || current === null || version > current.version)
      return null;
    return this.#history.read(version);
  }

  /** The checkpoint versions {@link readCheckpoint} can read, ascending. */
  async checkpointVersions(): Promise<number[]> {
    const current = this.#checkpoint.data;
    if (current === null) return [];
    const kept = (await this.#history.versions()).filter((v) => v < current.version);
    return [...kept, current.version];
  }

  /**
   * The newest `count` committed archive segments, newest first: what the runtime reads to find
   * the idempotency keys of recently archived messages without reading the whole archive.
   * @throws SessionError `CORRUPT_FILE` for a segment that is missing or damaged.
   */
  async *readRecentSegments(count: number): AsyncGenerator<ArchiveSegment> {
    if (!(count > 0)) return;
    const committed = this.#checkpoint.data?.compactionInfo.segment ?? 0;
    const recent = (await this.#archive.numbers()).filter((n) => n <= committed).slice(-count);
    for (const n of recent.reverse()) {
      const segment = await this.#archive.read(n);
      if (segment === null) {
        throw inconsistentError(this.#archive.path(n), `archive segment ${n} is missing`);
      }
      yield segment;
    }
  }

  /**
   * Rebuilds, without losing a message, what a person may have had to give up: session.json
   * from the session id and the files, and checkpoint.json from the archive (the summary of a
   * missing one is lost; the summary of one older than the archive is kept). Set-aside files it
   * makes obsolete are renamed `*.replaced-*`, never deleted. Returns what it did.
   * @throws SessionError `CORRUPT_FILE` when the files needed are damaged themselves (a segment,
   *   chat), or rebuilding would drop live messages the archive does not hold.
   * @example
   * ```ts
   * const store = await JsonFileSessionStore.open({ root })
   * console.log(await store.session('feature--f1--dev').repair())
   * ```
   */
  async repair(): Promise<string[]> {
    this.#assertWritable();
    await this.#assertInsideRoot();
    await this.#removeStaleTemporaries();
    return this.#withCheckpoint(() =>
      repairSession({
        id: this.id,
        dir: this.dir,
        archive: this.#archive,
        record: this.#record,
        checkpoint: this.#checkpoint,
        readChat: async () => {
          await this.#chat.read();
          return this.#chatAdapter.data.messages;
        },
        now: () => new Date().toISOString(),
      }),
    );
  }

  /** Resolves once a fold of the chat running in the background is done (tests and benchmarks). */
  async settled(): Promise<void> {
    await this.#chatAdapter.settled();
  }

  /** Closes file handles after the writes in flight. */
  async close(): Promise<void> {
    await this.#chatAdapter.close();
  }

  // ---- load checks -------------------------------------------------------------------------

  /** Messages must be messages, in increasing seq order; a malformed one is a damaged file. */
  async #checkChat(): Promise<void> {
    const chat = this.#chatAdapter.data;
    const found = messagesProblem(chat.messages);
    if (found === null) return;
    // Messages above the snapshot's seq were replayed from the log; the rest came from chat.json.
    const seq = (chat.messages[found.index] as { seq?: unknown } | null)?.seq;
    const fromLog = typeof seq === 'number' && seq > chat.snapshotSeq;
    const file = fromLog ? this.#chatAdapter.logFile : this.#chatAdapter.snapshotFile;
    throw this.#options.readOnly
      ? corruptFileError(file, found.problem, null)
      : await setAside(file, found.problem);
  }

  /**
   * Messages acknowledged before session.json was last written (it counts them at every close
   * and compaction) must all be in archive + chat; fewer means a chat file was lost.
   */
  async #checkNothingMissing(record: SessionRecord): Promise<void> {
    const counted = record.stats?.totalMessages;
    const archived = this.#checkpoint.data?.compactionInfo.archivedMessages ?? 0;
    const held = archived + this.messages.length;
    const through = this.#archivedThroughSeq();
    const [snapshot, log] = await Promise.all([
      this.#exists(this.#chatAdapter.snapshotFile),
      this.#exists(this.#chatAdapter.logFile),
    ]);
    const raw = this.#chatAdapter.data.messages;
    // After a commit, its fold wrote chat.json (or, if it was cut short, the log still holds the
    // archived messages); and every fold leaves chat.log behind.
    if (!snapshot && through >= 0 && !(raw.length > 0 && raw[0]!.seq <= through)) {
      throw inconsistentError(
        this.#chatAdapter.snapshotFile,
        `it is missing, but checkpoint.json says messages through seq ${through} were archived, and ` +
          `the fold of that commit wrote chat.json: the live messages it held are gone unless it is ` +
          `restored`,
      );
    }
    if (snapshot && !log) {
      throw inconsistentError(
        this.#chatAdapter.logFile,
        'it is missing, but chat.json exists, and every fold leaves chat.log behind: the messages ' +
          'appended since the last fold are gone unless it is restored',
      );
    }
    if (typeof counted === 'number' && counted > held) {
      const file = snapshot ? this.#chatAdapter.logFile : this.#chatAdapter.snapshotFile;
      throw inconsistentError(
        file,
        `session.json counted ${counted} messages when it was last written, but the archive (${archived}) ` +
          `and chat (${this.messages.length}) hold ${held}: messages are missing`,
      );
    }
  }

  /**
   * A crash after the checkpoint and before the chat fold leaves archived messages in chat too:
   * they are dropped from chat, but only once the archive is seen to hold each one identically.
   */
  async #dropArchivedFromChat(repairs: string[]): Promise<void> {
    const through = this.#archivedThroughSeq();
    const stale = this.#chatAdapter.data.messages.filter((m) => m.seq <= through);
    if (stale.length === 0) return;
    const archived = new Map<number, Message>();
    for await (const segment of this.readSegments()) {
      if (segment.lastSeq < stale[0]!.seq) continue;
      for (const m of segment.messages) archived.set(m.seq, m);
    }
    const lost = notArchived(stale, through, archived);
    if (lost.length > 0) {
      const seqs = lost.map((m) => m.seq).join(', ');
      throw inconsistentError(
        this.#file('checkpoint.json'),
        `it says messages through seq ${through} are archived, but live messages ${seqs} are not in the archive`,
      );
    }
    repairs.push(`dropped messages up to seq ${through} from chat: the checkpoint had archived them`);
    if (!this.#options.readOnly) await this.#chatAdapter.dropThrough(through);
  }

  /**
   * A checkpoint.json edited by hand (its content differs from the copy its version was committed
   * as, checks aside: they are recorded into the current version) becomes a version of its own,
   * so that the version the commit wrote stays readable and the inspector can diff the two.
   */
  async #keepHandEdit(notes: string[]): Promise<void> {
    const current = this.#checkpoint.data;
    if (current === null) return;
    const committed = await this.#history.read(current.version).catch(() => null);
    const content = (c: Checkpoint) => JSON.stringify({ ...c, checks: undefined, updatedAt: undefined });
    if (committed === null || content(committed) === content(current)) return;
    const next: Checkpoint = {
      ...current,
      version: current.version + 1,
      updatedAt: new Date().toISOString(),
    };
    if (checkpointProblems(next).length > 0) return;
    await this.#withCheckpoint(async () => {
      await this.#history.write(next);
      await persist(this.#checkpoint, next);
    });
    notes.push(
      `checkpoint.json was edited by hand: kept as version ${next.version}; version ${current.version} ` +
        'stays as its commit wrote it',
    );
  }

  // ---- helpers -----------------------------------------------------------------------------

  #file(name: string): string {
    return path.join(this.dir, name);
  }

  #archivedThroughSeq(): number {
    return this.#checkpoint.data?.compactionInfo.archivedThroughSeq ?? -1;
  }

  #assertFollows(segment: ArchiveSegment, checkpoint: Checkpoint, committed: number): void {
    const info = checkpoint.compactionInfo;
    const problem =
      segment.segment !== committed + 1
        ? `segment ${segment.segment} does not follow the committed segment ${committed}`
        : info.segment !== segment.segment || info.archivedThroughSeq !== segment.lastSeq
          ? `the checkpoint (segment ${info.segment}, through seq ${info.archivedThroughSeq}) does not ` +
            `commit segment ${segment.segment} (through seq ${segment.lastSeq})`
          : segmentShapeProblem(segment);
    if (problem !== null) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${this.id}: ${problem}; nothing was written`,
      );
    }
    this.#assertValidCheckpoint(checkpoint);
  }

  #assertValidCheckpoint(checkpoint: Checkpoint): void {
    const problems = checkpointProblems(checkpoint);
    if (problems.length > 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${this.id}: refusing to write a checkpoint that could not be loaded again (${problems.join('; ')})`,
        { details: { problems } },
      );
    }
  }

  #withCurrentChecks(checkpoint: Checkpoint): Checkpoint {
    const checks = this.#checkpoint.data?.checks;
    const { checks: _stale, ...rest } = checkpoint;
    return checks ? { ...rest, checks } : rest;
  }

  /** Writes of checkpoint.json one at a time: checks and compaction commits never overwrite each other. */
  readonly #withCheckpoint = createOneAtATime();

  async #assertInsideRoot(): Promise<void> {
    await assertInsideRoot(this.#root, [this.dir, this.archiveDir, this.checkpointsDir]);
  }

  /** A test hook's step (see StoreHooks): it may throw to stop the write here, as a crash would. */
  #step(operation: 'append' | 'commit', step: string): void {
    this.#options.hooks?.step?.(operation, step, this.id);
  }

  async #exists(file: string): Promise<boolean> {
    return lstat(file).then(
      () => true,
      () => false,
    );
  }

  /**
   * Temporary files of atomic writes cut short by a crash (`.<file>.<pid>.<hex>.tmp`). The root's
   * lock is ours, so any of another process is an orphan; they never held acknowledged data.
   */
  async #removeStaleTemporaries(): Promise<void> {
    for (const dir of [this.dir, this.archiveDir, this.checkpointsDir]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const match = TEMPORARY.exec(name);
        if (match && Number(match[1]) !== process.pid)
          await unlink(path.join(dir, name)).catch(() => undefined);
      }
    }
  }

  #assertWritable(): void {
    if (this.#options.readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${this.id} is opened read-only; open the runtime without readOnly to change it`,
      );
    }
  }
}
