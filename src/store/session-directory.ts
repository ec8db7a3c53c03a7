/**
 * One session's directory, `<root>/.dagent/sessions/<id>/`, through lowdb adapters: session.json,
 * chat.json (+ chat.log), checkpoint.json, context.json, agent-description.json and archive/.
 *
 * A compaction commit's order of writes is {@link SessionDirectory.commitCompaction}'s; memory
 * follows only once checkpoint.json (the commit point) is durable. Load (session-load.ts)
 * recognises what a crash or a failed commit leaves (the rules are in archive-rules.ts) and deletes
 * nothing. Its parts: session-reader.ts (the files, reads of the archive and checkpoint versions),
 * commit-rules.ts (what a checkpoint write must satisfy), checkpoint-writes.ts (the writes of
 * checkpoint.json and a commit's order), session-load.ts, session-repair.ts.
 */
import path from 'node:path';
import type { Low } from 'lowdb';
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
import type { ArchiveDirectory } from './archive-directory.js';
import type { CheckpointHistory } from './checkpoint-history.js';
import type { InitialFiles, SessionCounts, SessionPresence } from './contract.js';
import { replaceCheckpoint, writeCommit, type CheckpointFiles } from './checkpoint-writes.js';
import { assertLoadableCheckpoint, withRecordedChecks } from './commit-rules.js';
import {
  assertInsideRoot,
  assertWritableSession,
  missingRecordError,
  sessionPresence,
} from './directory-guards.js';
import { makeDir } from './durable-fs.js';
import { fileOf, persist, reread } from './durable-json-file.js';
import type { JournaledChatFile } from './journaled-chat-file.js';
import { newFile, writeNewSessionFiles, type NewFile } from './new-session-files.js';
import type { FileOptions, LoadedSession } from './session-files.js';
import { createdSession, loadSession, type SessionParts } from './session-load.js';
import { repairSessionFiles } from './session-repair.js';
import { SessionReader, openSessionFiles } from './session-reader.js';
import { reportingSyncs } from './sync-report.js';
import { WritesInDoubt } from './writes-in-doubt.js';

export { segmentFileName } from './archive-directory.js';
export type { FileOptions, LoadedSession } from './session-files.js';

/**
 * The files of one session. Create with {@link JsonFileSessionStore.session}; call `load()`
 * (or `create()`) before anything else. What it reads is {@link SessionReader}'s.
 */
export class SessionDirectory extends SessionReader {
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
  /** Directories whose new entries {@link prepare} made and {@link create} syncs. */
  #unsynced: string[] = [];
  /** A write in place but not durable: memory may not be what the files hold until a load. */
  readonly #inDoubt: WritesInDoubt;
  /** What the writes of checkpoint.json need (checkpoint-writes.ts). */
  readonly #checkpointFiles: CheckpointFiles;

  constructor(sessionsDir: string, id: string, options: FileOptions) {
    const dir = path.join(sessionsDir, id);
    const files = openSessionFiles(dir, options);
    super(id, dir, files);
    this.#root = path.resolve(sessionsDir, '..', '..');
    this.#options = options;
    this.#record = files.record;
    this.#checkpoint = files.checkpoint;
    this.#context = files.context;
    this.#description = files.description;
    this.#counts = files.counts;
    this.#chatAdapter = files.chatAdapter;
    this.#chat = files.chat;
    this.#archive = files.archive;
    this.#history = files.history;
    this.#inDoubt = new WritesInDoubt(id);
    this.#checkpointFiles = {
      id,
      checkpoint: files.checkpoint,
      archive: files.archive,
      history: files.history,
      messages: () => this.messages,
      step: (step) => this.#step('commit', step),
    };
  }

  /**
   * Whether the directory holds a session, without reading it: see {@link SessionPresence}.
   * @throws SessionError `CORRUPT_FILE` when the directory is a link leading out of the root.
   */
  async presence(): Promise<SessionPresence> {
    return sessionPresence(this.dir, () => this.#assertInsideRoot());
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
   * Creates the session's directory before its files are written; its entry is synced by
   * {@link create}, with session.json (nothing in it is a session before that).
   * `presence`: what the caller has just found (then it is not looked for again).
   * @throws SessionError `CORRUPT_FILE` for a damaged session (see {@link exists}).
   */
  async prepare(presence?: SessionPresence): Promise<void> {
    this.#assertWritable();
    if ((presence ?? (await this.presence())) === 'damaged')
      throw await missingRecordError(this.dir, this.id);
    this.#unsynced = await makeDir(this.dir);
  }

  /** Reads session.json only (what listing needs). @throws SessionError `SESSION_NOT_FOUND`, `CORRUPT_FILE` */
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
  async create(
    record: SessionRecord,
    options: { prepared?: boolean; files?: InitialFiles } = {},
  ): Promise<void> {
    this.#assertWritable();
    if (!options.prepared && (await this.presence()) === 'damaged')
      throw await missingRecordError(this.dir, this.id);
    const unsynced = options.prepared ? this.#unsynced : await makeDir(this.dir);
    this.#unsynced = []; // synced with the files: all durable before it resolves
    const files = options.files ?? {};
    const first: NewFile[] = [];
    if (files.context) first.push(newFile(this.#context, files.context));
    if (files.agentDescription) first.push(newFile(this.#description, files.agentDescription));
    if (files.counts) first.push(newFile(this.#counts, { ...this.counts, ...files.counts }));
    // A starting checkpoint goes with its version's copy, as any checkpoint write.
    const start = files.checkpoint;
    const alongside = start
      ? this.#withCheckpoint(() => replaceCheckpoint(this.#checkpointFiles, start, false))
      : null;
    const session = newFile(this.#record, record);
    await this.#inDoubt.run('create', fileOf(this.#record), () =>
      this.#reporting(() => writeNewSessionFiles(this.dir, session, first, { unsynced, alongside })),
    );
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
        const loaded = await loadSession(this.#parts());
        this.#loadFailure = null;
        this.#inDoubt.clear();
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

  /**
   * The session this object has just created ({@link prepare} found it absent, then
   * {@link create}), as {@link load} would return it, without reading back the files it has just
   * written durably itself; or null when it is not that simple (a starting checkpoint that names
   * archived messages: {@link load} checks it against the archive).
   */
  async loadCreated(): Promise<LoadedSession | null> {
    const loaded = await createdSession(this.#parts());
    if (loaded !== null) this.#loadFailure = null;
    return loaded;
  }

  #parts(): SessionParts {
    return {
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
    };
  }

  /**
   * Appends messages durably; resolves once they are on disk. Those in `uncounted` are written
   * without their `tokens` (an upper bound, see {@link recordCounts}). A session whose files did
   * not load is not appended to until a load succeeds.
   */
  async appendMessages(messages: readonly Message[], uncounted?: readonly number[]): Promise<void> {
    this.#assertWritable();
    if (this.#loadFailure !== null) throw this.#loadFailure;
    await this.#reporting(() => this.#chatAdapter.append(messages, uncounted));
    this.#step('append', 'log');
  }

  /** Exact counts of messages appended as uncounted: held now, written with the next append. */
  recordCounts(counts: readonly { seq: number; tokens: number }[]): void {
    this.#assertWritable();
    this.#chatAdapter.recordCounts(counts);
  }

  /** Writes counts.json with `counts` over the counts held. */
  async writeCounts(counts: Partial<SessionCounts>): Promise<void> {
    await this.#persist('counts write', this.#counts, { ...this.counts, ...counts });
  }

  /** Writes session.json. Not on the append path: figures there are derivable. */
  async writeRecord(record: SessionRecord): Promise<void> {
    await this.#persist('record write', this.#record, record);
  }

  async writeContext(context: SessionContext): Promise<void> {
    await this.#persist('context write', this.#context, context);
  }

  async writeAgentDescription(description: AgentDescription): Promise<void> {
    await this.#persist('agent description write', this.#description, description);
  }

  /**
   * Replaces checkpoint.json without archiving anything (a re-compressed checkpoint, a reset).
   * With `keepChecks`, the checks on disk at the moment of writing are kept, so that checks
   * recorded while a compaction ran are not lost by its commit.
   * @throws SessionError `INVALID_ARGUMENT` for a checkpoint a load would reject; `IO_ERROR`.
   */
  async writeCheckpoint(checkpoint: Checkpoint, options: { keepChecks?: boolean } = {}): Promise<void> {
    this.#assertWritable();
    // A commit without a segment (the store's), or a reset's checkpoint.
    await this.#checkpointWrite('commit', () =>
      replaceCheckpoint(this.#checkpointFiles, checkpoint, options.keepChecks ?? false),
    );
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
    return this.#checkpointWrite('checks write', async () => {
      const current = this.#checkpoint.data ?? empty();
      if (this.#checkpoint.data === null) await this.#history.write(current);
      const next = withRecordedChecks(current, checks, now);
      assertLoadableCheckpoint(this.id, next);
      await persist(this.#checkpoint, next);
      return next;
    });
  }

  /**
   * Commits a compaction: archive segment and the version's copy (side by side), then checkpoint
   * (the commit point); then chat.json without the archived messages is written in the background
   * (messages appended meanwhile are kept; `close` and `settled` wait for it). Memory changes only
   * once the checkpoint is durable: after a failure the session is as it was, and a retry commits
   * once. A segment file left by a failed attempt is replaced only when all its messages are still
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
    await this.#checkpointWrite('commit', () =>
      writeCommit(this.#checkpointFiles, segment, checkpoint, options.keepChecks ?? true),
    );
    // Committed. The archived messages leave chat.json by a fold in the background, which undoes
    // nothing if it fails (a full disk): `messages` hides them, and a later fold or load drops them.
    await this.#reporting(() => this.#chatAdapter.dropThrough(segment.lastSeq)).catch(() => undefined);
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
    return repairSessionFiles(this.#parts());
  }

  /** Resolves once a fold of the chat running in the background is done (tests and benchmarks). */
  async settled(): Promise<void> {
    await this.#chatAdapter.settled();
  }

  /** Closes file handles after the writes in flight. */
  async close(): Promise<void> {
    await this.#reporting(() => this.#chatAdapter.close());
  }

  /** Writes of checkpoint.json one at a time (checks and commits never overwrite each other), syncs reported. */
  readonly #oneCheckpointWrite = createOneAtATime();
  readonly #withCheckpoint = <T>(write: () => Promise<T>) =>
    this.#reporting(() => this.#oneCheckpointWrite(write));

  /** Writes one small file, refused while an earlier write is in doubt (see writes-in-doubt.ts). */
  async #persist<F>(what: string, db: Low<F | null>, value: F): Promise<void> {
    this.#assertWritable();
    await this.#inDoubt.run(what, fileOf(db), () => this.#reporting(() => persist(db, value)));
  }

  /** A write of checkpoint.json ({@link #withCheckpoint}), refused while an earlier one is in doubt. */
  readonly #checkpointWrite = <T>(what: string, write: () => Promise<T>) =>
    this.#inDoubt.run(what, fileOf(this.#checkpoint), () => this.#withCheckpoint(write));

  /** Runs `write` with its syncs reported to the test hook `synced` (see sync-report.ts). */
  readonly #reporting = <T>(write: () => Promise<T>) => reportingSyncs(this.#options.hooks, write);

  async #assertInsideRoot(): Promise<void> {
    await assertInsideRoot(this.#root, [this.dir, this.archiveDir, this.checkpointsDir]);
  }

  /** A test hook's step (see StoreHooks): it may throw to stop the write here, as a crash would. */
  #step(operation: 'append' | 'commit', step: string): void {
    this.#options.hooks?.step?.(operation, step, this.id);
  }

  #assertWritable(): void {
    assertWritableSession(this.#options.readOnly, this.id);
  }
}
