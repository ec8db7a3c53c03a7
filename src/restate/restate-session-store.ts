/**
 * The store contract over Restate's ingress: every method is a call to the `session` object of
 * the session (or the `sessionDirectory` of the namespace). Writes go one at a time per session,
 * in call order, each with an idempotency key of its own (one per call, reused by the client's
 * retries), so that a call cut by a crash of the server is attached to the same invocation when
 * the client retries it, and runs once. Large loads and archive reads are fetched
 * in pages (each under Restate's 32 MiB per answer) and joined here.
 */
import type { VirtualObjectDefinition } from '@restatedev/restate-sdk-clients';
import * as clients from '@restatedev/restate-sdk-clients';
import { randomUUID } from 'node:crypto';
import { SessionError, isSessionErrorCode } from '../core/errors.js';
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
import { assertArchiveQuery } from '../store/archive-pages.js';
import { segmentShapeProblem } from '../store/archive-rules.js';
import type {
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
  SessionSummary,
  StoreCapabilities,
  StoreHooks,
} from '../store/contract.js';
import { PAGE_BYTES } from './limits.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import type { LoadedState, MessagePage } from './session-reads.js';
import type { CommitCall, Outcome } from './session-state.js';
import type { SegmentState } from './session-state.js';

/** Options of {@link createRestateSessionStore}. */
export interface RestateSessionStoreOptions {
  /** The ingress of the Restate server, such as `http://127.0.0.1:8080`. */
  ingressUrl: string;
  /** Headers sent with every call (an API key of a managed Restate). */
  headers?: Record<string, string>;
  /** Keeps this store's sessions apart from others on the same server: object keys become `<namespace>/<id>`. */
  namespace?: string;
  readOnly?: boolean;
  /**
   * Test hooks (never in production): `step('append' | 'commit', 'object', id)` runs once the
   * object's handler has answered, the one durable step of a write seen from here (the handler's
   * state writes are stored together when it ends; a crash inside it is retried by Restate).
   */
  hooks?: StoreHooks;
}

/** The store of {@link createRestateSessionStore}: the contract, and its calls for the session client. */
export interface RestateSessionStore extends SessionStore {
  /** @internal The object key of a session (`<namespace>/<id>`), its id checked. */
  keyOf(id: string): string;
  /**
   * @internal Calls a write handler of the session's object: after this store's earlier writes to
   * the session, once (an idempotency key per call, reused by retries); a SessionError it
   * returned is thrown.
   */
  write<T>(id: string, handler: string, argument: unknown): Promise<T>;
  /** @internal Calls a shared (read) handler of the session's object; a SessionError it returned is thrown. */
  read<T>(id: string, handler: string, argument?: unknown): Promise<T>;
}

ensurePromiseWithResolvers();

/**
 * @internal How many sessions a listing reads at once (the store's summaries here, the client's
 * estimates in restate-runtime.ts): one round trip each, side by side, not one after another.
 */
export const LIST_READS = 16;

const CAPABILITIES: StoreCapabilities = Object.freeze({
  persistent: true,
  writers: 'shared',
  readers: true,
  steps: true,
});

/** @internal Rebuilds the SessionError a handler returned as data. */
export function unwrap<T>(result: Outcome<T>): T {
  if (result.ok) return result.value;
  const { code, message, retryable, details } = result.error;
  const bare = message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '');
  throw new SessionError(isSessionErrorCode(code) ? code : 'SESSION_UNAVAILABLE', 'store', bare, {
    retryable,
    details,
  });
}

/**
 * A {@link SessionStore} whose sessions are `session` objects on a Restate server. Capabilities:
 * persistent, `writers: 'shared'` (the object serialises writes per session), readers, steps
 * (one per write: the object's answer).
 *
 * @param options - `ingressUrl`; `headers`; `namespace` to keep sessions apart; `readOnly`.
 * @returns the store; its methods reject with `SessionError`s (`SESSION_UNAVAILABLE` when the
 *   server cannot be reached).
 * @example
 * ```ts
 * const store = createRestateSessionStore({ ingressUrl: 'http://127.0.0.1:8080' });
 * const runtime = await createSessionRuntime({ root: 'restate', store });
 * ```
 */
export function createRestateSessionStore(options: RestateSessionStoreOptions): RestateSessionStore {
  const ingress = clients.connect({
    url: options.ingressUrl,
    ...(options.headers ? { headers: options.headers } : {}),
    retry: true,
  });
  const namespace = options.namespace ?? '';
  // The directory (and event feed) of no namespace is keyed `default`: an object key is never empty.
  const directory = namespace || 'default';
  const readOnly = options.readOnly ?? false;
  const keyOf = (id: string) => {
    assertSessionId(id);
    return namespace === '' ? id : `${namespace}/${id}`;
  };
  let closed = false;

  const request = async <T>(
    service: 'session' | 'sessionDirectory',
    key: string,
    handler: string,
    argument: unknown,
    idempotencyKey?: string,
  ): Promise<T> => {
    if (closed) throw new SessionError('INVALID_ARGUMENT', 'store', 'the Restate session store is closed');
    try {
      // A client from the name alone: the handlers are called by name through the ingress.
      const client = ingress.objectClient(
        { name: service } as VirtualObjectDefinition<string, unknown>,
        key,
      ) as unknown as Record<string, (argument: unknown, opts?: unknown) => Promise<T>>;
      return await client[handler]!(argument, clients.rpc.opts(idempotencyKey ? { idempotencyKey } : {}));
    } catch (error) {
      throw new SessionError(
        'SESSION_UNAVAILABLE',
        'store',
        `${service}/${key}/${handler} failed at ${options.ingressUrl} ` +
          `(${error instanceof Error ? error.message : String(error)}); ` +
          'is the Restate server running, and the dagent-sessions endpoint registered with it?',
        { retryable: true, cause: error },
      );
    }
  };
  const call = async <T>(id: string, handler: string, argument: unknown = null, idempotencyKey?: string) =>
    unwrap(await request<Outcome<T>>('session', keyOf(id), handler, argument, idempotencyKey));
  // Writes to one session go one at a time, in call order: HTTP requests issued together may reach
  // the server in any order, and the contract keeps the order of calls.
  const queues = new Map<string, Promise<unknown>>();
  const write = <T>(
    id: string,
    handler: string,
    argument: unknown,
    idempotencyKey: string = randomUUID(),
  ) => {
    if (readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${id}: the Restate session store is opened read-only; open it without readOnly to change sessions`,
      );
    }
    const previous = queues.get(id) ?? Promise.resolve();
    const next = previous.then(
      () => call<T>(id, handler, argument, idempotencyKey),
      () => call<T>(id, handler, argument, idempotencyKey),
    );
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    queues.set(id, settled);
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id);
    });
    return next;
  };

  const headOf = async (id: string, loaded: LoadedState): Promise<SessionHead> => {
    const messages = [...loaded.live.messages];
    let more = loaded.live.more;
    while (more) {
      const page = await call<MessagePage>(id, 'live', {
        after: messages[messages.length - 1]!.seq,
        lastSeq: loaded.head.lastSeq,
      });
      messages.push(...page.messages);
      more = page.more && page.messages.length > 0;
    }
    return {
      record: loaded.record,
      checkpoint: loaded.checkpoint,
      context: loaded.context,
      agentDescription: loaded.agentDescription,
      messages,
      archivedThroughSeq: loaded.head.archivedThroughSeq,
      lastSeq: Math.max(loaded.head.lastSeq, loaded.head.archivedThroughSeq),
      counts: loaded.counts,
      repairs: [],
      notes: [],
      tornRecordsDropped: 0,
    };
  };

  const store: RestateSessionStore = {
    keyOf,
    write,
    read: <T>(id: string, handler: string, argument?: unknown) => call<T>(id, handler, argument),
    capabilities: CAPABILITIES,
    location: options.ingressUrl,
    readOnly,

    async list(): Promise<SessionListing[]> {
      const ids = await request<string[]>('sessionDirectory', directory, 'ids', null);
      const listingOf = async (id: string): Promise<SessionListing> => {
        try {
          return { id, summary: await call<SessionSummary>(id, 'summary'), error: null };
        } catch (error) {
          if (!(error instanceof SessionError)) throw error;
          return {
            id,
            summary: null,
            error: { code: error.code, message: error.message, details: error.details },
          };
        }
      };
      // LIST_READS summaries at a time, in the directory's order.
      const listings: SessionListing[] = [];
      for (let i = 0; i < ids.length; i += LIST_READS)
        listings.push(...(await Promise.all(ids.slice(i, i + LIST_READS).map(listingOf))));
      return listings;
    },
    presence: (id) => call<SessionPresence>(id, 'presence'),
    async create(record: SessionRecord, files: InitialFiles = {}): Promise<SessionHead> {
      await write<void>(record.id, 'create', { record, files, namespace: directory });
      return store.load(record.id);
    },
    async load(id: string): Promise<SessionHead> {
      return headOf(id, await call<LoadedState>(id, 'load', { maxBytes: PAGE_BYTES }));
    },
    async append(id: string, messages: readonly Message[]): Promise<void> {
      // Batches are cut under the ingress's 32 MiB; each part is atomic, the parts in order.
      let part: Message[] = [];
      let bytes = 0;
      const flush = async () => {
        if (part.length === 0) return;
        await write<number>(id, 'append', part);
        options.hooks?.step?.('append', 'object', id);
        part = [];
        bytes = 0;
      };
      for (const message of messages) {
        const size = JSON.stringify(message).length;
        if (part.length > 0 && bytes + size > PAGE_BYTES) await flush();
        part.push(message);
        bytes += size;
      }
      if (messages.length === 0) await write<number>(id, 'append', []);
      await flush();
    },
    async commit(id: string, commit: SessionCommit): Promise<CommitResult> {
      return commitWith(id, commit, randomUUID());
    },
    writeContext: (id: string, context: SessionContext) => write<void>(id, 'writeContext', context),
    writeAgentDescription: (id: string, description: AgentDescription) =>
      write<void>(id, 'writeDescription', description),
    writeRecord: (id: string, record: SessionRecord) => write<void>(id, 'writeRecord', record),
    writeCounts: (id: string, counts: Partial<SessionCounts>) => write<void>(id, 'writeCounts', counts),
    recordChecks: (id: string, checks: readonly CheckResult[], now: string) =>
      write<Checkpoint>(id, 'recordChecks', { checks, now }),
    async readArchive(id: string, query: ArchiveQuery = {}): Promise<ArchivePage> {
      assertArchiveQuery(query, `readArchive(${id})`);
      const messages: Message[] = [];
      let range = { ...query };
      let through: number | null = null;
      for (;;) {
        const page = await call<MessagePage & { archivedThroughSeq: number }>(id, 'archive', {
          query: range,
        });
        through ??= page.archivedThroughSeq;
        messages.push(...page.messages);
        const last = page.messages[page.messages.length - 1];
        const room = query.limit === undefined ? Infinity : query.limit - messages.length;
        if (!page.more || last === undefined || room <= 0) {
          return { messages, more: page.more, archivedThroughSeq: through };
        }
        range = {
          ...range,
          ...(query.order === 'desc' ? { before: last.seq } : { after: last.seq }),
          ...(query.limit === undefined ? {} : { limit: room }),
        };
      }
    },
    async readSegment(id: string, n: number): Promise<ArchiveSegment | null> {
      const info = await call<SegmentState | null>(id, 'segment', n);
      if (info === null) return null;
      const { firstPos: _pos, messageCount: _count, ...segment } = info;
      const page = await store.readArchive(id, { after: info.firstSeq - 1, before: info.lastSeq + 1 });
      return { ...segment, messages: page.messages };
    },
    readCheckpoint: (id: string, version?: number) =>
      call<Checkpoint | null>(id, 'checkpoint', version === undefined ? {} : { version }),
    checkpointVersions: (id: string) => call<number[]>(id, 'versions'),
    async release(): Promise<void> {},
    async close(): Promise<void> {
      closed = true;
    },
  };

  /** Commits with an explicit id: the same id twice commits once (the compaction workflow's commit). */
  const commitWith = async (id: string, commit: SessionCommit, commitId: string): Promise<CommitResult> => {
    const segment = commit.segment;
    if (segment !== null) {
      const problem = segmentShapeProblem(segment);
      if (problem !== null)
        throw new SessionError(
          'INVALID_ARGUMENT',
          'store',
          `session ${id}: segment ${problem}; nothing was written`,
        );
    }
    const { messages: _messages, ...meta } = segment ?? { messages: [] };
    const body: CommitCall = {
      commitId,
      segment:
        segment === null
          ? null
          : { ...(meta as Omit<ArchiveSegment, 'messages'>), messageCount: segment.messages.length },
      checkpoint: commit.checkpoint,
      ...(commit.keepChecks === undefined ? {} : { keepChecks: commit.keepChecks }),
    };
    const result = await write<CommitResult>(id, 'commit', body, commitId);
    options.hooks?.step?.('commit', 'object', id);
    return result;
  };
  return store;
}
