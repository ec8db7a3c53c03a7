/**
 * The JSON-file store: the store contract (contract.ts) on one directory per session under
 * `<root>/.dagent/sessions/`, behind one write lock per root. Each session's files are handled by
 * a {@link SessionDirectory} (lowdb adapters: journaled chat, durable JSON files, the archive);
 * this class keeps one per loaded session and speaks data to its callers.
 */
import path from 'node:path';
import { emptyCheckpoint } from '../core/empty-checkpoint.js';
import { SessionError } from '../core/errors.js';
import { assertSessionId } from '../core/ids.js';
import type {
  AgentDescription,
  ArchiveSegment,
  CheckResult,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import { assertArchiveQuery } from './archive-pages.js';
import { appendProblem, commitProblem, countsProblem, segmentLiveProblem } from './archive-rules.js';
import { assertInitialCheckpoint } from './commit-rules.js';
import type {
  AppendOptions,
  ArchivePage,
  ArchiveQuery,
  CommitResult,
  InitialFiles,
  SessionCommit,
  SessionCounts,
  SessionHead,
  SessionListing,
  SessionPresence,
  SessionStore,
  StoreCapabilities,
} from './contract.js';
import { frozenCopies, frozenCopy, isDeepFrozen, segmentCopy } from './freeze.js';
import type { RootLock } from './root-lock.js';
import { SegmentCache } from './segment-cache.js';
import { SessionDirectory, type LoadedSession } from './session-directory.js';
import { checkStoreOptions, type SessionStoreOptions } from './session-files.js';
import { headOf } from './session-head.js';
import { sessionIdsIn } from './session-ids.js';
import { figuresOf, summarizeOnDisk, summaryOf } from './session-summary.js';

export type { SessionStore } from './contract.js';
export type { SessionStoreOptions } from './session-files.js';

const CAPABILITIES: StoreCapabilities = Object.freeze({
  persistent: true,
  writers: 'exclusive',
  readers: true,
  steps: true,
  syncs: true,
});

/**
 * The store on JSON files through lowdb, one directory per session; see {@link SessionStore}
 * for the contract it keeps. `session(id)` gives the files of one session directly (what
 * `dagent-sessions repair` and the store's own tests use); do not mix it with the contract's
 * methods on the same session.
 *
 * @example
 * ```ts
 * const store = await JsonFileSessionStore.open({ root: '/repo' })
 * const head = await store.load('feature--f1--pm')
 * await store.close()
 * ```
 */
export class JsonFileSessionStore implements SessionStore {
  /** Without fsyncs (`durable: false`) it reports none (`syncs`): a power loss may take anything. */
  readonly capabilities: StoreCapabilities;
  readonly root: string;
  readonly sessionsDir: string;
  readonly readOnly: boolean;
  readonly #lock: RootLock | null;
  readonly #options: SessionStoreOptions;
  readonly #cache: SegmentCache | undefined;
  /** Sessions loaded through the contract, by id. */
  readonly #loaded = new Map<string, SessionDirectory>();
  /** Loads in flight, so that two callers of one session share its directory. */
  readonly #loading = new Map<string, Promise<SessionHead>>();
  /**
   * Sessions this store has just created, as {@link create} wrote them, until the first `load`
   * (which takes this instead of reading back what was just written) or anything else done to
   * the session. The root's write lock makes this store their only writer.
   */
  readonly #created = new Map<string, { dir: SessionDirectory; loaded: LoadedSession }>();

  private constructor(options: SessionStoreOptions, lock: RootLock | null) {
    this.capabilities = options.durable === false ? { ...CAPABILITIES, syncs: false } : CAPABILITIES;
    this.root = path.resolve(options.root);
    this.sessionsDir = path.join(this.root, '.dagent', 'sessions');
    this.readOnly = options.readOnly ?? false;
    this.#lock = lock;
    this.#options = options;
    const budget = options.segmentCacheBytes ?? 64 * 1024 * 1024;
    this.#cache = budget > 0 ? new SegmentCache(budget) : undefined;
  }

  /**
   * Opens the store, taking the root's write lock unless `readOnly`.
   * @throws SessionError `ROOT_LOCKED` naming the holder when another writer has the root;
   *   `INVALID_ARGUMENT` for an option out of its range, or a name that is none of the options.
   */
  static async open(options: SessionStoreOptions): Promise<JsonFileSessionStore> {
    checkStoreOptions(options);
    // Readers take no lock: they do not load the lock's modules either (`list` starts faster).
    const lock = options.readOnly
      ? null
      : await (
          await import('./root-lock.js')
        ).acquireRootLock(path.resolve(options.root), options.description);
    return new JsonFileSessionStore(options, lock);
  }

  get location(): string {
    return this.root;
  }

  /** Ids of the session directories on disk (and links to some), sorted. */
  async listSessionIds(): Promise<string[]> {
    return sessionIdsIn(this.sessionsDir);
  }

  /** The files of one session (not loaded yet). @throws SessionError `INVALID_KEY` for an unsafe id. */
  session(id: string): SessionDirectory {
    assertSessionId(id);
    return new SessionDirectory(this.sessionsDir, id, {
      durable: this.#options.durable ?? true,
      readOnly: this.readOnly,
      root: this.root,
      ...(this.#options.foldMinBytes === undefined ? {} : { foldMinBytes: this.#options.foldMinBytes }),
      ...(this.#options.syncAppends === undefined ? {} : { syncAppends: this.#options.syncAppends }),
      ...(this.#cache ? { cache: this.#cache } : {}),
      ...(this.#options.hooks ? { hooks: this.#options.hooks } : {}),
    });
  }

  // ---- the contract ----------------------------------------------------------------------------

  async list(): Promise<SessionListing[]> {
    const listings: SessionListing[] = [];
    for (const id of await this.listSessionIds()) {
      try {
        const loaded = this.#loaded.get(id);
        if (loaded?.record) {
          const through = loaded.checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
          const figures = figuresOf(loaded.messages, through);
          const lastSeq = Math.max(figures.lastSeq, through);
          listings.push({
            id,
            summary: summaryOf(loaded.record, loaded.checkpoint, { ...figures, lastSeq }),
            error: null,
          });
          continue;
        }
        const presence = await this.session(id).presence();
        if (presence === 'absent') continue; // created half-way: not a session yet
        const summary =
          presence === 'present' ? await summarizeOnDisk(path.join(this.sessionsDir, id)) : null;
        if (summary === null)
          await this.session(id).exists(); // throws what is wrong
        else listings.push({ id, summary, error: null });
      } catch (error) {
        const e =
          error instanceof SessionError
            ? error
            : new SessionError('IO_ERROR', 'store', `session ${id}: ${String(error)}`, { cause: error });
        listings.push({
          id,
          summary: null,
          error: { code: e.code, message: e.message, details: { ...e.details } },
        });
      }
    }
    return listings;
  }

  async presence(id: string): Promise<SessionPresence> {
    // A session this writer has loaded is there: under the root's lock, nobody else removes it.
    if (!this.readOnly && this.#loaded.get(id)?.record) return 'present';
    return this.session(id).presence();
  }

  async create(record: SessionRecord, files: InitialFiles = {}): Promise<SessionHead> {
    this.#assertWritable(record.id);
    this.#created.delete(record.id);
    const dir = this.session(record.id);
    const presence = await dir.presence();
    if (presence === 'present') {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${record.id} exists already; load it instead`,
        {
          details: { sessionId: record.id, exists: true },
        },
      );
    }
    if (files.checkpoint) assertInitialCheckpoint(record.id, files.checkpoint);
    // session.json is written last: a directory without it is not a session yet.
    await dir.prepare(presence);
    // Side by side: none of them is a session's until session.json is in place, after them all.
    await dir.create(structuredClone(record), { prepared: true, files: structuredClone(files) });
    // What was just written durably is not read back: the directory is loaded as it was created.
    if (!this.#loaded.has(record.id) && !this.#loading.has(record.id)) {
      const created = await dir.loadCreated();
      if (created !== null) {
        this.#loaded.set(record.id, dir);
        this.#created.set(record.id, { dir, loaded: created });
        return headOf(created);
      }
    }
    await dir.close();
    return this.load(record.id);
  }

  async load(id: string): Promise<SessionHead> {
    assertSessionId(id);
    const pending = this.#loading.get(id);
    if (pending) return pending;
    // The load that follows a create (the runtime's, to serve the new session): what was just
    // written durably, by this store, under its lock, is not read back.
    const created = this.#created.get(id);
    this.#created.delete(id);
    if (created && this.#loaded.get(id) === created.dir) return headOf(created.loaded);
    const work = (async () => {
      const dir = this.#loaded.get(id) ?? this.session(id);
      try {
        const loaded = await dir.load();
        this.#loaded.set(id, dir);
        return headOf(loaded);
      } catch (error) {
        // Not kept: once a person repairs the files, the next load reads them afresh.
        if (this.#loaded.get(id) === dir) this.#loaded.delete(id);
        await dir.close().catch(() => undefined);
        throw error;
      }
    })();
    this.#loading.set(id, work);
    try {
      return await work;
    } finally {
      this.#loading.delete(id);
    }
  }

  append(id: string, messages: readonly Message[], options: AppendOptions = {}): Promise<void> {
    try {
      this.#assertWritable(id);
      const uncounted = options.uncounted;
      // Checked here, before it is written: the log's check at load would refuse it (archive-rules.ts).
      const problem = appendProblem(messages, uncounted);
      if (problem !== null)
        throw new SessionError('INVALID_MESSAGE', 'store', `session ${id}: ${problem}; nothing was written`);
      const kept = frozenCopies(messages);
      // A loaded session's append reaches its log without waiting a turn, so that appends issued
      // together share one write and one fdatasync (group commit).
      this.#created.delete(id);
      const dir = this.#loaded.get(id);
      return dir
        ? dir.appendMessages(kept, uncounted)
        : this.#dir(id).then((d) => d.appendMessages(kept, uncounted));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async recordCounts(id: string, counts: readonly { seq: number; tokens: number }[]): Promise<void> {
    this.#assertWritable(id);
    const problem = countsProblem(counts);
    if (problem !== null)
      throw new SessionError('INVALID_ARGUMENT', 'store', `session ${id}: ${problem}; nothing was recorded`);
    // One call per append that was counted after its write: a loaded session's takes no turn.
    this.#created.delete(id);
    const dir = this.#loaded.get(id) ?? (await this.#dir(id));
    dir.recordCounts(counts);
  }

  async commit(id: string, commit: SessionCommit): Promise<CommitResult> {
    this.#assertWritable(id);
    const dir = await this.#dir(id);
    // Kept as it is when nobody can change it (the runtime's compactions hand theirs deep-frozen).
    const checkpoint = isDeepFrozen(commit.checkpoint) ? commit.checkpoint : frozenCopy(commit.checkpoint);
    const problem =
      commitProblem(dir.checkpoint, commit.segment, checkpoint) ??
      (commit.segment && segmentLiveProblem(commit.segment, dir.messages));
    if (problem !== null) {
      throw new SessionError('INVALID_ARGUMENT', 'store', `session ${id}: ${problem}; nothing was written`, {
        details: { sessionId: id },
      });
    }
    const keepChecks = commit.keepChecks ?? true;
    if (commit.segment === null) await dir.writeCheckpoint(checkpoint, { keepChecks });
    else await dir.commitCompaction(segmentCopy(commit.segment), checkpoint, { keepChecks });
    // What the commit stored is deep-frozen (session-directory.ts): shared, not copied.
    return { checkpoint: dir.checkpoint! };
  }

  async writeContext(id: string, context: SessionContext): Promise<void> {
    this.#assertWritable(id);
    await (await this.#dir(id)).writeContext(structuredClone(context));
  }

  async writeAgentDescription(id: string, description: AgentDescription): Promise<void> {
    this.#assertWritable(id);
    await (await this.#dir(id)).writeAgentDescription(structuredClone(description));
  }

  async writeRecord(id: string, record: SessionRecord): Promise<void> {
    this.#assertWritable(id);
    await (await this.#dir(id)).writeRecord(structuredClone(record));
  }

  async writeCounts(id: string, counts: Partial<SessionCounts>): Promise<void> {
    this.#assertWritable(id);
    await (await this.#dir(id)).writeCounts(structuredClone(counts));
  }

  async recordChecks(id: string, checks: readonly CheckResult[], now: string): Promise<Checkpoint> {
    this.#assertWritable(id);
    const dir = await this.#dir(id);
    return structuredClone(await dir.recordChecks(structuredClone(checks), now, () => emptyCheckpoint(now)));
  }

  async readArchive(id: string, query: ArchiveQuery = {}): Promise<ArchivePage> {
    assertArchiveQuery(query, `readArchive(${id})`);
    // Committed segments are deep-frozen when read (archive-directory.ts): handed out, not copied.
    return (await this.#dir(id)).readArchivePage(query);
  }

  async readSegment(id: string, n: number): Promise<ArchiveSegment | null> {
    return (await this.#dir(id)).readSegment(n);
  }

  async readCheckpoint(id: string, version?: number): Promise<Checkpoint | null> {
    const checkpoint = await (await this.#dir(id)).readCheckpoint(version);
    return checkpoint === null ? null : structuredClone(checkpoint);
  }

  async checkpointVersions(id: string): Promise<number[]> {
    return (await this.#dir(id)).checkpointVersions();
  }

  /**
   * Resolves once the folds of chat.log into chat.json that run in the background (off the
   * append path) are done, for every loaded session: what tests and benchmarks wait for before
   * they look at the files. Not part of the contract.
   */
  async settled(): Promise<void> {
    await Promise.all([...this.#loaded.values()].map((dir) => dir.settled()));
  }

  async release(id: string): Promise<void> {
    this.#created.delete(id);
    const dir = this.#loaded.get(id);
    if (!dir) return;
    this.#loaded.delete(id);
    await dir.close();
  }

  /** Releases every session, then the lock. */
  async close(): Promise<void> {
    const dirs = [...this.#loaded.values()];
    this.#loaded.clear();
    this.#created.clear();
    for (const dir of dirs) await dir.close().catch(() => undefined);
    await this.#lock?.release();
  }

  /** The loaded directory of a session, loading it on first use. */
  async #dir(id: string): Promise<SessionDirectory> {
    this.#created.delete(id);
    const dir = this.#loaded.get(id);
    if (dir) return dir; // its id was checked when it was loaded
    assertSessionId(id);
    await this.load(id);
    return this.#loaded.get(id)!;
  }

  #assertWritable(id: string): void {
    if (this.readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${id}: the store of ${this.root} is opened read-only; open it without readOnly to change sessions`,
      );
    }
  }
}
