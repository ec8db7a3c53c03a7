/**
 * The store contract in memory: for tests, and for hosts that persist sessions elsewhere (they
 * keep the storage object, or copy what `list`/`load`/`readArchive` give them). Sessions live in
 * a {@link MemoryStorage}; stores opened on the same storage share it, one writer at a time, as
 * the JSON-file store's stores share a root. Every write is applied at once or not at all, so a
 * commit is atomic by construction; what goes in is copied and frozen, and frozen data is handed
 * out, so that no caller can change what is stored.
 */
import { randomUUID } from 'node:crypto';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { emptyCheckpoint } from '../core/empty-checkpoint.js';
import { SessionError } from '../core/errors.js';
import { assertSessionId } from '../core/ids.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type {
  AgentDescription,
  ArchiveSegment,
  CheckResult,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import { assertArchiveQuery, readArchivePage } from './archive-pages.js';
import {
  appendProblem,
  archiveTotalsProblem,
  commitProblem,
  countsProblem,
  segmentLiveProblem,
} from './archive-rules.js';
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
  StoreHooks,
} from './contract.js';
import { deepFreeze, frozenCopies } from './freeze.js';
import { createMemoryStorage, type MemorySession, type MemoryStorage } from './memory-storage.js';
import { figuresOf, summaryOf } from './session-summary.js';

export { createMemoryStorage, type MemoryStorage } from './memory-storage.js';

/** Options of {@link createMemorySessionStore}. A name that is none of these is refused with `INVALID_ARGUMENT`. */
export interface MemorySessionStoreOptions {
  /** Where the sessions live; default new, empty storage. */
  storage?: MemoryStorage;
  /** Reads only; no writer lock is taken. */
  readOnly?: boolean;
  /** Shown to a second writer that is refused. */
  description?: string;
  /** Test hooks (the conformance suite's crash cases). */
  hooks?: StoreHooks;
}

/** Every option of {@link MemorySessionStoreOptions} (the compiler keeps this in step with the type). */
const OPTION_NAMES = optionNames({
  storage: true,
  readOnly: true,
  description: true,
  hooks: true,
} satisfies Record<keyof MemorySessionStoreOptions, true>);

const CAPABILITIES: StoreCapabilities = Object.freeze({
  persistent: true,
  writers: 'exclusive',
  readers: true,
  steps: true,
});

const NO_COUNTS: SessionCounts = Object.freeze({ description: null, context: null, checkpoint: null });

/**
 * A {@link SessionStore} in memory.
 *
 * @throws SessionError `ROOT_LOCKED` when another writer holds the storage; `INVALID_ARGUMENT` for a
 *   name that is none of the options (a misspelt `readonly` does not take the writer).
 * @example
 * ```ts
 * const storage = createMemoryStorage()
 * const runtime = await createSessionRuntime({ root: 'memory', store: createMemorySessionStore({ storage }) })
 * ```
 */
export function createMemorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore {
  // A misspelt `readonly` would otherwise take the storage's one writer.
  checkOptionNames(
    options,
    OPTION_NAMES,
    (what) => new SessionError('INVALID_ARGUMENT', 'store', `createMemorySessionStore: ${what}`),
  );
  const storage = options.storage ?? createMemoryStorage();
  const readOnly = options.readOnly ?? false;
  const token = randomUUID();
  if (!readOnly) {
    if (storage.writer !== null) {
      throw new SessionError(
        'ROOT_LOCKED',
        'lock',
        `the memory storage is held by another writer (${storage.writer.description}); close it first, ` +
          'or open this store with readOnly',
        { details: { holder: { description: storage.writer.description } } },
      );
    }
    storage.writer = { token, description: options.description ?? `memory store ${token.slice(0, 8)}` };
  }
  let closed = false;

  const step = (operation: 'append' | 'commit', name: string, id: string) =>
    options.hooks?.step?.(operation, name, id);

  function assertOpen(): void {
    if (closed) throw new SessionError('INVALID_ARGUMENT', 'store', 'the memory store is closed');
  }

  function writable(id: string): MemorySession {
    assertOpen();
    if (readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${id}: the memory store is opened read-only; open it without readOnly to change sessions`,
      );
    }
    return sessionOf(id);
  }

  function sessionOf(id: string): MemorySession {
    assertSessionId(id);
    const session = storage.sessions.get(id);
    if (!session) {
      throw new SessionError('SESSION_NOT_FOUND', 'store', `no session "${id}" in the memory store`, {
        details: { sessionId: id },
      });
    }
    return session;
  }

  const through = (s: MemorySession) => s.checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
  const lastSeqOf = (s: MemorySession) => Math.max(through(s), s.live[s.live.length - 1]?.seq ?? -1);
  const copy = <T>(value: T): T => deepFreeze(structuredClone(value));

  function assertCheckpoint(id: string, checkpoint: Checkpoint): void {
    const problems = checkpointProblems(checkpoint);
    if (problems.length > 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${id}: refusing a checkpoint that could not be loaded again (${problems.join('; ')})`,
        { details: { problems } },
      );
    }
  }

  function withChecks(session: MemorySession, checkpoint: Checkpoint, keep: boolean): Checkpoint {
    if (!keep) return checkpoint;
    const { checks: _theirs, ...rest } = checkpoint;
    const checks = session.checkpoint?.checks;
    return checks ? { ...rest, checks } : rest;
  }

  const store: SessionStore = {
    capabilities: CAPABILITIES,
    location: 'memory',
    readOnly,

    async list(): Promise<SessionListing[]> {
      assertOpen();
      return [...storage.sessions.keys()].sort().map((id) => {
        const s = storage.sessions.get(id)!;
        const figures = figuresOf(s.live, through(s));
        return {
          id,
          summary: summaryOf(s.record, s.checkpoint, { ...figures, lastSeq: lastSeqOf(s) }),
          error: null,
        };
      });
    },

    async presence(id: string): Promise<SessionPresence> {
      assertOpen();
      assertSessionId(id);
      return storage.sessions.has(id) ? 'present' : 'absent';
    },

    async create(record: SessionRecord, files: InitialFiles = {}): Promise<SessionHead> {
      assertOpen();
      if (readOnly) writable(record.id);
      assertSessionId(record.id);
      if (storage.sessions.has(record.id)) {
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
      const checkpoint = files.checkpoint ? copy(files.checkpoint) : null;
      storage.sessions.set(record.id, {
        record: copy(record),
        checkpoint,
        context: files.context ? copy(files.context) : null,
        agentDescription: files.agentDescription ? copy(files.agentDescription) : null,
        counts: copy({ ...NO_COUNTS, ...files.counts }),
        live: [],
        uncounted: new Set(),
        segments: [],
        versions: new Map(checkpoint ? [[checkpoint.version, checkpoint]] : []),
      });
      return store.load(record.id);
    },

    async load(id: string): Promise<SessionHead> {
      assertOpen();
      const s = sessionOf(id);
      return {
        ...structuredClone({
          record: s.record,
          checkpoint: s.checkpoint,
          context: s.context,
          agentDescription: s.agentDescription,
          counts: s.counts,
        }),
        messages: [...s.live],
        archivedThroughSeq: through(s),
        lastSeq: lastSeqOf(s),
        repairs: [],
        notes: [],
        tornRecordsDropped: 0,
        uncounted: s.live.filter((m) => s.uncounted.has(m.seq)).map((m) => m.seq),
      };
    },

    // An uncounted message holds its bound until counted, and says so at load (never a count).
    async append(id: string, messages: readonly Message[], options?: AppendOptions): Promise<void> {
      const s = writable(id);
      const problem = appendProblem(messages, options?.uncounted);
      if (problem !== null)
        throw new SessionError('INVALID_MESSAGE', 'store', `session ${id}: ${problem}; nothing was written`);
      const last = lastSeqOf(s);
      if (messages.length > 0 && !(messages[0]!.seq > last)) {
        throw new SessionError(
          'INVALID_MESSAGE',
          'store',
          `message seq ${messages[0]!.seq} does not follow seq ${last}; appends must be in order`,
        );
      }
      s.live.push(...frozenCopies(messages));
      for (const seq of options?.uncounted ?? []) s.uncounted.add(seq);
      step('append', 'applied', id);
    },

    async recordCounts(id: string, counts: readonly { seq: number; tokens: number }[]): Promise<void> {
      const s = writable(id);
      const problem = countsProblem(counts);
      if (problem !== null)
        throw new SessionError(
          'INVALID_ARGUMENT',
          'store',
          `session ${id}: ${problem}; nothing was recorded`,
        );
      // Only messages appended as uncounted take a count (a counted one keeps its own, as on disk).
      const bySeq = new Map(counts.filter((c) => s.uncounted.has(c.seq)).map((c) => [c.seq, c.tokens]));
      for (const seq of bySeq.keys()) s.uncounted.delete(seq);
      s.live = s.live.map((m) => {
        const tokens = bySeq.get(m.seq);
        return tokens === undefined ? m : Object.freeze({ ...m, tokens });
      });
    },

    async commit(id: string, commit: SessionCommit): Promise<CommitResult> {
      const s = writable(id);
      const current = s.checkpoint;
      const segment = commit.segment;
      const problem =
        commitProblem(current, segment, commit.checkpoint) ??
        (segment && segmentLiveProblem(segment, s.live));
      if (problem !== null)
        throw new SessionError('INVALID_ARGUMENT', 'store', `session ${id}: ${problem}; nothing was written`);
      const next = copy(withChecks(s, commit.checkpoint, commit.keepChecks ?? true));
      assertCheckpoint(id, next);
      if (segment !== null) {
        const frozen = copy(segment);
        const totals = archiveTotalsProblem(
          frozen,
          (current?.compactionInfo.archivedMessages ?? 0) + frozen.messages.length,
          next,
        );
        if (totals !== null)
          throw new SessionError(
            'INVALID_ARGUMENT',
            'store',
            `session ${id}: ${totals}; nothing was written`,
          );
        s.segments.push(frozen);
        s.live = s.live.filter((m) => m.seq > frozen.lastSeq);
      }
      s.checkpoint = next;
      s.versions.set(next.version, next);
      step('commit', 'applied', id);
      return { checkpoint: structuredClone(next) };
    },

    async writeContext(id: string, context: SessionContext): Promise<void> {
      writable(id).context = copy(context);
    },

    async writeAgentDescription(id: string, description: AgentDescription): Promise<void> {
      writable(id).agentDescription = copy(description);
    },

    async writeRecord(id: string, record: SessionRecord): Promise<void> {
      writable(id).record = copy(record);
    },

    async writeCounts(id: string, counts: Partial<SessionCounts>): Promise<void> {
      const s = writable(id);
      s.counts = copy({ ...s.counts, ...counts });
    },

    async recordChecks(id: string, checks: readonly CheckResult[], now: string): Promise<Checkpoint> {
      const s = writable(id);
      const current = s.checkpoint ?? emptyCheckpoint(now);
      const byId = new Map((current.checks ?? []).map((c) => [c.checkId, c]));
      for (const check of checks) byId.set(check.checkId, { ...check, at: check.at ?? now });
      const next = copy({ ...current, updatedAt: now, checks: [...byId.values()] });
      assertCheckpoint(id, next);
      if (!s.versions.has(next.version)) s.versions.set(next.version, next);
      s.checkpoint = next;
      return structuredClone(next);
    },

    async readArchive(id: string, query: ArchiveQuery = {}): Promise<ArchivePage> {
      assertOpen();
      assertArchiveQuery(query, `readArchive(${id})`);
      const s = sessionOf(id);
      const segments = s.segments;
      const page = await readArchivePage(
        {
          count: segments.length,
          archivedThroughSeq: through(s),
          read: async (n) => segments[n - 1]!,
          broken: (n, problem) =>
            new SessionError('CORRUPT_FILE', 'store', `session ${id}: segment ${n}: ${problem}`),
        },
        query,
      );
      return { ...page, messages: structuredClone(page.messages) };
    },

    async readSegment(id: string, n: number): Promise<ArchiveSegment | null> {
      assertOpen();
      const segment = sessionOf(id).segments[n - 1];
      return Number.isInteger(n) && n >= 1 && segment ? structuredClone(segment) : null;
    },

    async readCheckpoint(id: string, version?: number): Promise<Checkpoint | null> {
      assertOpen();
      const s = sessionOf(id);
      if (version === undefined || version === s.checkpoint?.version)
        return s.checkpoint ? structuredClone(s.checkpoint) : null;
      const kept = s.versions.get(version);
      return kept ? structuredClone(kept) : null;
    },

    async checkpointVersions(id: string): Promise<number[]> {
      assertOpen();
      const s = sessionOf(id);
      return [...s.versions.keys()].filter((v) => v <= (s.checkpoint?.version ?? -1)).sort((a, b) => a - b);
    },

    async release(): Promise<void> {},

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (storage.writer?.token === token) storage.writer = null;
    },
  };
  return store;
}
