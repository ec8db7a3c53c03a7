/**
 * The {@link SessionAPI} over Restate, so that the inspector, the CLI and Electron hosts work
 * unchanged. The write path is the `session` object's: `addMessage` is one call of its exclusive
 * handler (validate, count, number, store, publish, start the compaction workflow at the
 * threshold), and `compact` waits for that workflow (object-writes.ts), so that any number of
 * clients append to one session at once. Reads go through the project's own runtime on the
 * Restate store, read-only and keeping no session in memory between calls (the same answers as
 * in-process, never stale). `setContext`, `setAgentDescription`, `recordChecks` and `archive`
 * are exclusive handlers of the object too (`setPart`, `recordChecksFor`, `archiveSession`). The
 * other writes (create, clear, reset, edits, `send`) go through a second runtime on the store,
 * which loads the session afresh for each call and never compacts at a threshold (the object
 * does); a creation that lost a race answers the session created, and clear and reset first wait
 * for the object's compaction. Their events are published to the namespace's `sessionEvents` feed
 * as the object's are, and `onEvent` follows that feed by long polling.
 */
import { randomUUID } from 'node:crypto';
import type { VirtualObjectDefinition } from '@restatedev/restate-sdk-clients';
import * as clients from '@restatedev/restate-sdk-clients';
import { SessionError } from '../core/errors.js';
import { createSessionApiFromInvoke, type EventFeed } from '../ipc/api.js';
import type { SessionAPI, SessionChannel } from '../ipc/channels.js';
import { createSessionHandlers } from '../ipc/handlers.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionEvent } from '../runtime/events.js';
import type { SessionKey } from '../core/types.js';
import type { CreateSessionOptions, SessionRuntime, SessionRuntimeOptions } from '../runtime/types.js';
import type { FeedPage } from './event-feed.js';
import { createObjectWrites } from './object-writes.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import { createRestateSessionStore } from './restate-session-store.js';

ensurePromiseWithResolvers();

/** Options of {@link createRestateSessionClient}. */
export interface RestateSessionClientOptions extends Omit<
  SessionRuntimeOptions,
  'store' | 'root' | 'readOnly' | 'durable' | 'foldMinBytes'
> {
  /** The ingress of the Restate server, such as `http://127.0.0.1:8080`. */
  ingressUrl: string;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
  /** Keeps these sessions apart from others on the server (object keys `<namespace>/<id>`). */
  namespace?: string;
  /** Reads only. */
  readOnly?: boolean;
  /** How long one long poll of the event feed waits (default 20 s). */
  pollMs?: number;
  /**
   * Publish this client's events to the feed (default true). The object publishes an append's
   * event with a one-way send (the caller does not wait for it); a writer whose events nobody
   * follows can turn it off and spare the server the feed's writes.
   */
  publishEvents?: boolean;
  /** How long events are gathered before one publication (default 50 ms). */
  eventBatchMs?: number;
  /**
   * Called when `onEvent` fell behind the feed (it keeps the last 1,000 publications or so): the
   * numbers of the events dropped before this client read them. Default: a line on stderr. The
   * sessions themselves lose nothing: read them again (`getHistory`, `get`) to catch up.
   */
  onEventsLost?: (lost: { from: number; to: number }) => void;
}

/** What {@link createRestateSessionClient} returns: the {@link SessionAPI}, and `close()`. */
export interface RestateSessionClient extends SessionAPI {
  readonly ingressUrl: string;
  /**
   * Resolves once the feed that `onEvent` opened has taken its cursor: from then on every event
   * published reaches the listeners. Rejects when no listener is registered.
   */
  eventsConnected(): Promise<void>;
  /** Stops the event feed and closes the runtime (waiting for its writes). */
  close(): Promise<void>;
}

type Caller = Record<string, (argument: unknown, opts?: unknown) => Promise<unknown>>;

/**
 * A {@link SessionAPI} whose sessions live on a Restate server (the `session` objects of
 * `dagent-sessions/restate`, served by `dagent-sessions restate serve` or `restate dev`).
 *
 * Any number of clients append to one session at once: the object takes the appends one at a
 * time, each in one order, and compacts past the threshold through the compaction workflow;
 * setting the context or description, recording checks and archiving are serialised by the
 * object as well, and one key created by two clients at once is created once. The other writes (clear, reset, edits,
 * `send`) are made by the client's runtime on the session as loaded for the call (clear and
 * reset after the object's compaction has ended): one racing another client's write is refused
 * (`INVALID_MESSAGE` or `INVALID_ARGUMENT`: its seq or commit no longer follows), never mixed in.
 * Events of every client of the namespace reach `onEvent`.
 *
 * @param options - `ingressUrl`, `headers`, `namespace`; runtime options (limits, agents, compactor, model...).
 * @returns the client, once its runtime is ready.
 * @throws SessionError as `createSessionRuntime` does; its methods reject as the HTTP client's do.
 * @example
 * ```ts
 * const sessions = await createRestateSessionClient({ ingressUrl: 'http://127.0.0.1:8080' });
 * const info = await sessions.create({ type: 'feature', agentType: 'pm', featureId: 'f1' });
 * await sessions.addMessage(info.id, { role: 'user', content: 'Plan the login page' });
 * await sessions.close();
 * ```
 */
export async function createRestateSessionClient(
  options: RestateSessionClientOptions,
): Promise<RestateSessionClient> {
  const {
    ingressUrl,
    headers,
    namespace,
    pollMs = 20_000,
    readOnly,
    publishEvents = true,
    eventBatchMs = 50,
    onEventsLost = (lost: { from: number; to: number }) =>
      console.error(
        `[dagent-sessions] [restate] the event feed dropped events ${lost.from}..${lost.to} ` +
          'before this client read them; read the sessions again to catch up',
      ),
    ...runtimeOptions
  } = options;
  const connection = {
    ingressUrl,
    ...(headers ? { headers } : {}),
    ...(namespace ? { namespace } : {}),
  };
  const store = createRestateSessionStore({ ...connection, ...(readOnly ? { readOnly } : {}) });
  const readStore = createRestateSessionStore({ ...connection, readOnly: true });
  const root = `restate:${ingressUrl}`;
  // No session stays loaded between calls: each call reads the object's state as it is now.
  const supervisor = { ...runtimeOptions.supervisor, maxActive: 0 };
  const reader = await createSessionRuntime({ ...runtimeOptions, supervisor, store: readStore, root });
  // The writer never starts a compaction at the threshold (compactAt 1): the object does, through the workflow.
  const writer = readOnly
    ? reader
    : await createSessionRuntime({
        ...runtimeOptions,
        supervisor,
        limits: { ...runtimeOptions.limits, compactAt: 1 },
        store,
        root,
      });
  const origin = randomUUID();
  const feedKey = namespace || 'default';
  const ingress = clients.connect({ url: ingressUrl, ...(headers ? { headers } : {}) });
  const objectWrites = createObjectWrites({
    store,
    ingress,
    limits: runtimeOptions.limits,
    agents: runtimeOptions.agents,
    maxMessageBytes: runtimeOptions.maxMessageBytes,
    now: runtimeOptions.now ?? (() => new Date()),
    model: runtimeOptions.model,
    feed: publishEvents ? feedKey : null,
    origin,
  });
  const runtime = composeRuntime(reader, writer, objectWrites, readOnly === true);
  const handlers = createSessionHandlers(runtime);
  const object = (name: string, key: string) =>
    ingress.objectClient({ name } as VirtualObjectDefinition<string, unknown>, key) as unknown as Caller;
  const waitService = ingress.serviceClient({ name: 'sessionEventsWait' } as never) as unknown as Caller;

  // This runtime's events go to the feed in order, gathered for `eventBatchMs` and one publication
  // at a time, so that a busy writer makes one feed call per batch rather than one per event.
  let pending: SessionEvent[] = [];
  let publishing: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const publish = async () => {
    while (pending.length > 0) {
      const events = pending;
      pending = [];
      await object('sessionEvents', feedKey).publish!({ origin, events }).catch((error: unknown) =>
        console.error('[dagent-sessions] [restate] events could not be published:', error),
      );
    }
    publishing = null;
  };
  const flush = () => {
    timer = null;
    publishing ??= publish();
    return publishing;
  };
  const unsubscribe = publishEvents
    ? writer.subscribe((event) => {
        pending.push(event);
        if (timer === null && publishing === null) timer = setTimeout(flush, eventBatchMs);
      })
    : () => undefined;

  let stopped = false;
  const feeds = new Set<{ stopped: boolean; abort: AbortController }>();
  let connected: Promise<void> | null = null;
  const feed: EventFeed = (deliver) => {
    const controller = { stopped: false, abort: new AbortController() };
    const start = object('sessionEvents', feedKey).read!({ after: Number.MAX_SAFE_INTEGER }) as Promise<{
      next: number;
    }>;
    connected = start.then(() => undefined);
    connected.catch(() => undefined); // nobody may be waiting for it
    void (async () => {
      let cursor = (await start).next - 1;
      while (!controller.stopped && !stopped) {
        try {
          const page = (await waitService.wait!(
            { namespace: feedKey, after: cursor, timeoutMs: pollMs },
            clients.rpc.opts({ signal: controller.abort.signal }),
          )) as FeedPage;
          if (page.lost !== null && !controller.stopped) {
            onEventsLost(page.lost);
            cursor = Math.max(cursor, page.lost.to);
          }
          for (const item of page.events) {
            cursor = Math.max(cursor, item.n);
            if (!controller.stopped) deliver(item.event);
          }
        } catch (error) {
          if (controller.stopped || stopped) return;
          console.error('[dagent-sessions] [restate] the event feed failed; retrying in 1 s:', error);
          await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
        }
      }
    })().catch((error: unknown) =>
      console.error('[dagent-sessions] [restate] the event feed stopped:', error),
    );
    feeds.add(controller);
    return () => {
      controller.stopped = true;
      controller.abort.abort();
      feeds.delete(controller);
      if (feeds.size === 0) connected = null;
    };
  };

  const api = createSessionApiFromInvoke(
    (channel, ...args) =>
      (handlers[channel as SessionChannel] as (...a: unknown[]) => Promise<unknown>)(...args),
    feed,
  );
  return {
    ...api,
    ingressUrl,
    eventsConnected: () =>
      connected ??
      Promise.reject(
        new SessionError('INVALID_ARGUMENT', 'runtime', 'eventsConnected: call onEvent(listener) first'),
      ),
    async close() {
      stopped = true;
      for (const f of feeds) f.abort.abort();
      await writer.close();
      if (writer !== reader) await reader.close();
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
      await flush();
      await store.close();
      await readStore.close();
    },
  };
}

const READS = [
  'root',
  'store',
  'compactor',
  'estimator',
  'agents',
  'getSession',
  'listSessions',
  'getMessages',
  'getHistory',
  'getCheckpoint',
  'getCheckpointVersions',
  'getContext',
  'getAgentDescription',
  'estimateSize',
  'previewRequest',
  'exportSession',
  'activeSessionIds',
] as const;

/**
 * The runtime the client's handlers serve: reads from the read runtime, `addMessage` and
 * `compact` through the object, `buildRequest` and `send` after making room through the object,
 * the rest from the writer runtime.
 */
function composeRuntime(
  reader: SessionRuntime,
  writer: SessionRuntime,
  writes: ReturnType<typeof createObjectWrites>,
  readOnly: boolean,
): SessionRuntime {
  const composed: SessionRuntime = Object.create(writer) as SessionRuntime;
  const own = composed as unknown as Record<string, unknown>;
  for (const name of READS) {
    const value = (reader as unknown as Record<string, unknown>)[name];
    own[name] = typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(reader) : value;
  }
  if (readOnly) return composed;
  own['addMessage'] = writes.addMessage;
  own['compact'] = writes.compact;
  // One exclusive call of the object each: two clients at once both succeed, one after the other.
  own['setContext'] = ((id: string, context: unknown) =>
    writes.setPart(id, 'context', context)) as SessionRuntime['setContext'];
  own['setAgentDescription'] = ((id: string, description: unknown) =>
    writes.setPart(id, 'description', description)) as SessionRuntime['setAgentDescription'];
  own['recordChecks'] = ((id: string, checks: unknown) =>
    writes.recordChecks(id, checks)) as SessionRuntime['recordChecks'];
  own['archiveSession'] = (async (id: string) => {
    await writes.archive(id);
    return reader.getSession(id);
  }) as SessionRuntime['archiveSession'];
  // The object's create refuses a session that exists: a client that lost the race to create it
  // answers the session the winner created (creation is idempotent, as in-process).
  own['createSession'] = (async (key: SessionKey, options?: CreateSessionOptions) => {
    try {
      return await writer.createSession(key, options);
    } catch (error) {
      if (!(error instanceof SessionError) || error.details['exists'] !== true) throw error;
      return reader.getSession(String(error.details['sessionId']));
    }
  }) as SessionRuntime['createSession'];
  // One exclusive call of the object each, after the object's compaction running (as in-process).
  own['editCheckpoint'] = writes.editCheckpoint as SessionRuntime['editCheckpoint'];
  own['recordDecision'] = writes.recordDecision as SessionRuntime['recordDecision'];
  own['clearMessages'] = writes.clearMessages as SessionRuntime['clearMessages'];
  own['reset'] = writes.reset as SessionRuntime['reset'];
  // As in-process: a request past the threshold waits for a compaction first (a failed one
  // leaves messages out of the request instead, as the runtime's own build does).
  const makeRoom = async (id: string) => {
    const estimate = await reader.estimateSize(id);
    if (estimate.needsCompaction) await writes.compact(id).catch(() => undefined);
  };
  own['buildRequest'] = (async (id: string, message: unknown, options?: unknown) => {
    await makeRoom(id);
    return (reader.buildRequest as (...a: unknown[]) => Promise<unknown>)(id, message, options);
  }) as SessionRuntime['buildRequest'];
  // The turn is the session's `sessionTurn` object: two at once run one after the other.
  own['send'] = writes.send as SessionRuntime['send'];
  return composed;
}
