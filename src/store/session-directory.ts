/**
 * One session's directory, `<root>/.dagent/sessions/<id>/`, through lowdb adapters: session.json,
 * chat.json (+ chat.log), checkpoint.json, context.json, agent-description.json and archive/.
 *
 * The compaction commit writes archive segment, then checkpoint (the commit point), then chat;
 * memory follows only once the checkpoint is durable, so a failed commit leaves the session as it
 * was and a retry commits once. Load (session-load.ts) recognises what a crash or a failed commit
 * leaves (the rules are in archive-rules.ts) and deletes nothing: a segment newer than the
 * checkpoint is kept when its messages are all still live (the next commit replaces it), and
 * anything else that does not add up (a missing or older checkpoint, a gap in the archive, missing
 * messages) is reported as `CORRUPT_FILE` naming the file and what to do.
 */
import { lstat } from 'node:fs/promises';
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
import type { ArchivePage, ArchiveQuery, SessionCounts, SessionPresence } from './contract.js';
import { isOrphanSegment, segmentShapeProblem } from './archive-rules.js';
import { inconsistentError } from './corrupt.js';
import {
  assertInsideRoot,
  assertNothingSetAside,
  missingRecordError,
  sessionDataFound,
} from './directory-guards.js';
import { ensureDir, isErrno } from './durable-fs.js';
import { DurableJsonFile, persist, reread } from './durable-json-file.js';
import { ioError } from './io-error.js';
import { JournaledChatFile, emptyChat, type JournalStats } from './journaled-chat-file.js';
import {
  NO_COUNTS,
  isObject,
  validateCheckpoint,
  validateCounts,
  validateRecord,
  type FileOptions,
  type LoadedSession,
} from './session-files.js';
import { loadSession, removeStaleTemporaries } from './session-load.js';
import { repairSession } from './session-repair.js';

export { segmentFileName } from './archive-directory.js';
export type { FileOptions, LoadedSession } from './session-files.js';

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
    return loadSession({
      id: this.id,
      dir: this.dir,
      archiveDir: this.archiveDir,
      checkpointsDir: this.checkpointsDir,
      options: this.#options,
      record: this.#record,
      chat: this.#chat,
      chatAdapter: this.#chatAdapter,
      checkpoint: this.#checkpoint,
      context: this.#context,
      description: this.#description,
      counts: this.#counts,
      archive: this.#archive,
      history: this.#history,
      messages: () => this.messages,
      withCheckpoint: this.#withCheckpoint,
      assertInsideRoot: () => this.#assertInsideRoot(),
    });
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
    await removeStaleTemporaries([this.dir, this.archiveDir, this.checkpointsDir]);
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

  // ---- helpers -----------------------------------------------------------------------------

  #file(name: string): string {
    return path.join(this.dir, name);
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
