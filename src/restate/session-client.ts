/**
 * The {@link SessionAPI} over Restate, so that the inspector, the CLI and Electron hosts work
 * unchanged. Every write is a call of the session's objects (object-writes.ts), so that any number
 * of clients write one session at once, one call after the other: `addMessage` is one call of the
 * `session` object's exclusive handler (validate, count, number, store, publish, start the
 * compaction workflow at the threshold) and `compact` waits for that workflow; create, the context
 * and description, checks, archive, checkpoint edits, decisions, clear and reset are exclusive
 * handlers of the object too; `send` is one call of the session's `sessionTurn` object (append,
 * build, the model as a durable step, append the reply). `estimateSize`, `previewRequest` and
 * `buildRequest` are shared handlers of the object (request-reads.ts: the estimate from the head's
 * token sums, the request from the parts and live messages, with the runtime's pure functions);
 * other reads go through the project's own runtime on a read-only Restate store, keeping no session
 * in memory between calls (the same answers as in-process, never stale). The objects publish their
 * events to the namespace's `sessionEvents` feed, and `onEvent` follows that feed by long polling.
 */
import { randomUUID } from 'node:crypto';
import type { VirtualObjectDefinition } from '@restatedev/restate-sdk-clients';
import * as clients from '@restatedev/restate-sdk-clients';
import { SessionError, describeError } from '../core/errors.js';
import { createSessionApiFromInvoke, type EventFeed } from '../ipc/api.js';
import type { SessionAPI, SessionChannel } from '../ipc/channels.js';
import { createSessionHandlers } from '../ipc/handlers.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionKey } from '../core/types.js';
import type { CreateSessionOptions, SessionRuntime, SessionRuntimeOptions } from '../runtime/types.js';
import type { FeedPage } from './event-feed.js';
import { createObjectWrites } from './object-writes.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import { createRestateSessionStore, type RestateSessionStore } from './restate-session-store.js';
import type { EstimateCall, RequestCall } from './request-reads.js';
import { DEFAULT_ANTHROPIC_MODEL } from '../compaction/anthropic-options.js';
import type { Limits } from '../core/types.js';
import type { BuiltRequest, RequestFormat } from '../request/build-request.js';
import type { SendOptions, SessionRequest } from '../runtime/conversation.js';
import { checkMethodOptions } from '../runtime/method-options.js';
import type { SizeEstimate } from '../runtime/types.js';
import { validateMessageInput } from '../runtime/validate.js';

ensurePromiseWithResolvers();

/** Options of {@link createRestateSessionClient}. */
export interface RestateSessionClientOptions extends Omit<
  SessionRuntimeOptions,
  'store' | 'root' | 'readOnly' | 'durable' | 'foldMinBytes' | 'syncAppends'
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
 * Any number of clients write one session at once: each write is one exclusive call of the
 * session's object, taken one at a time in one order (appends, the context and description,
 * checks, archive, checkpoint edits and decisions, clear and reset, a creation, which of two
 * clients creating one key writes once); a checkpoint change made while the object compacts waits
 * for that commit, as in-process. The object compacts past the threshold through the compaction
 * workflow. `send` is a turn of the session's `sessionTurn` object: two turns on one session run
 * one after the other, each whole; the model is the endpoint's (`createTurnService`).
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
  // Writes are calls of the objects (`store.write`); reads go through the project's runtime on a
  // read-only store, keeping no session in memory between calls (each reads the object as it is now).
  const store = createRestateSessionStore({ ...connection, ...(readOnly ? { readOnly } : {}) });
  const readStore = createRestateSessionStore({ ...connection, readOnly: true });
  const root = `restate:${ingressUrl}`;
  const supervisor = { ...runtimeOptions.supervisor, maxActive: 0 };
  const reader = await createSessionRuntime({ ...runtimeOptions, supervisor, store: readStore, root });
  const feedKey = namespace || 'default';
  const ingress = clients.connect({ url: ingressUrl, ...(headers ? { headers } : {}) });
  const objectWrites = createObjectWrites({
    store,
    ingress,
    limits: runtimeOptions.limits,
    agents: runtimeOptions.agents,
    maxMessageBytes: runtimeOptions.maxMessageBytes,
    now: runtimeOptions.now ?? (() => new Date()),
    estimator: reader.estimator,
    model: runtimeOptions.model,
    feed: publishEvents ? feedKey : null,
    origin: randomUUID(),
  });
  const requests = createRequestReads(readStore, objectWrites.limitsOf, reader, runtimeOptions);
  const runtime = composeRuntime(reader, objectWrites, requests, readOnly === true);
  const handlers = createSessionHandlers(runtime);
  const object = (name: string, key: string) =>
    ingress.objectClient({ name } as VirtualObjectDefinition<string, unknown>, key) as unknown as Caller;
  const waitService = ingress.serviceClient({ name: 'sessionEventsWait' } as never) as unknown as Caller;

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
      await reader.close();
      await store.close();
      await readStore.close();
    },
  };
}

type RequestOptions = { format?: RequestFormat; cache?: boolean; model?: string };

/**
 * `estimateSize`, `previewRequest` and `buildRequest` as calls of the object's shared handlers,
 * with what the object cannot know: the session's limits (the client's, by agent type), the
 * learned correction of the model, the largest user message.
 */
function createRequestReads(
  store: RestateSessionStore,
  limitsOf: (id: string) => Limits,
  reader: SessionRuntime,
  options: Pick<SessionRuntimeOptions, 'model' | 'maxMessageBytes'>,
) {
  const defaultModel = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  const requestCall = (id: string, userMessage: unknown, given: RequestOptions = {}) => {
    const model = given.model ?? defaultModel;
    const call: RequestCall = {
      limits: limitsOf(id),
      correction: reader.calibration.factor(model),
      userMessage: (userMessage ?? null) as RequestCall['userMessage'],
      ...(given.format === undefined ? {} : { format: given.format }),
      ...(given.cache === undefined ? {} : { cache: given.cache }),
      ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
    };
    return { call, model };
  };
  return {
    /**
     * The new user message's tokens as the in-process build counts them before it decides to make
     * room (the default model's correction applied); an invalid message is refused here, as there.
     */
    userTokensOf(userMessage: unknown): number {
      const { content } = validateMessageInput(
        { role: 'user', content: userMessage },
        options.maxMessageBytes === undefined ? {} : { maxBytes: options.maxMessageBytes },
      );
      return Math.ceil(reader.estimator.estimateContent(content) * reader.calibration.factor(defaultModel));
    },
    estimateSize: (id: string): Promise<SizeEstimate> => {
      const call: EstimateCall = {
        limits: limitsOf(id),
        correction: reader.calibration.factor(defaultModel),
      };
      return store.read<SizeEstimate>(id, 'estimate', call);
    },
    async previewRequest(id: string, userMessage?: unknown, given?: RequestOptions): Promise<SessionRequest> {
      const { call, model } = requestCall(id, userMessage, given);
      const built = await store.read<BuiltRequest>(id, 'previewRequest', call);
      return { ...built, model, compacted: false, compactionError: null };
    },
    async buildRequest(
      id: string,
      userMessage: unknown,
      given?: RequestOptions,
      room: Pick<SessionRequest, 'compacted' | 'compactionError'> = {
        compacted: false,
        compactionError: null,
      },
    ): Promise<SessionRequest> {
      const { call, model } = requestCall(id, userMessage, given);
      const built = await store.read<BuiltRequest>(id, 'buildRequest', call);
      return { ...built, model, ...room };
    },
  };
}

/**
 * The runtime the client's handlers serve: the reads of the read runtime, the request reads of the
 * object, every write a call of the session's objects (`session`, `sessionTurn`), `buildRequest`
 * after making room through the object's compaction.
 */
function composeRuntime(
  reader: SessionRuntime,
  writes: ReturnType<typeof createObjectWrites>,
  requests: ReturnType<typeof createRequestReads>,
  readOnly: boolean,
): SessionRuntime {
  const composed: SessionRuntime = Object.create(reader) as SessionRuntime;
  const own = composed as unknown as Record<string, unknown>;
  own['estimateSize'] = requests.estimateSize;
  // Each call's options are checked as the runtime checks them (a misspelt name is refused).
  own['previewRequest'] = (async (id: string, message?: unknown, options?: RequestOptions) => {
    checkMethodOptions('previewRequest', options);
    return requests.previewRequest(id, message, options ?? undefined);
  }) as SessionRuntime['previewRequest'];
  // Read-only: no room made, as the runtime's read-only build.
  own['buildRequest'] = (async (id: string, message: unknown, options?: RequestOptions) => {
    checkMethodOptions('buildRequest', options);
    return requests.buildRequest(id, message, options ?? undefined);
  }) as SessionRuntime['buildRequest'];
  if (readOnly) return composed;
  own['addMessage'] = writes.addMessage;
  own['compact'] = (async (id: string, options?: { keepRecentTokens?: number }) => {
    checkMethodOptions('compact', options);
    return writes.compact(id, options ?? undefined);
  }) as SessionRuntime['compact'];
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
  // Of two clients creating one key at once, one writes it and the other answers it.
  own['createSession'] = (async (key: SessionKey, options?: CreateSessionOptions) => {
    checkMethodOptions('createSession', options);
    return reader.getSession(await writes.createSession(key, options ?? undefined));
  }) as SessionRuntime['createSession'];
  // One exclusive call of the object each, after the object's compaction running (as in-process).
  own['editCheckpoint'] = writes.editCheckpoint as SessionRuntime['editCheckpoint'];
  own['recordDecision'] = writes.recordDecision as SessionRuntime['recordDecision'];
  own['clearMessages'] = writes.clearMessages as SessionRuntime['clearMessages'];
  own['reset'] = writes.reset as SessionRuntime['reset'];
  // As in-process: a request past the threshold waits for a compaction first (a failed one
  // leaves messages out of the request instead, as the runtime's own build does).
  // The new message counts: one that alone crosses the threshold gets a compaction first.
  const makeRoom = async (
    id: string,
    message: unknown,
  ): Promise<Pick<SessionRequest, 'compacted' | 'compactionError'>> => {
    // No message: the object refuses the build (INVALID_ARGUMENT), so nothing is compacted first.
    if (message === undefined || message === null) return { compacted: false, compactionError: null };
    const userTokens = requests.userTokensOf(message);
    const estimate = await requests.estimateSize(id);
    if (estimate.total + userTokens < estimate.threshold) return { compacted: false, compactionError: null };
    try {
      await writes.compact(id);
      return { compacted: true, compactionError: null };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        compacted: false,
        compactionError: {
          code: typeof code === 'string' ? code : 'COMPACTOR_FAILED',
          message: describeError(error),
        },
      };
    }
  };
  own['buildRequest'] = (async (id: string, message: unknown, options?: RequestOptions) => {
    checkMethodOptions('buildRequest', options);
    return requests.buildRequest(id, message, options ?? undefined, await makeRoom(id, message));
  }) as SessionRuntime['buildRequest'];
  // The turn is the session's `sessionTurn` object: two at once run one after the other.
  own['send'] = (async (id: string, content: unknown, options?: SendOptions) => {
    checkMethodOptions('send', options);
    return writes.send(id, content, options ?? undefined);
  }) as SessionRuntime['send'];
  return composed;
}
