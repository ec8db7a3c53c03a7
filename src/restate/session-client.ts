/**
 * The {@link SessionAPI} over Restate: the project's own runtime (the same rules, the same
 * answers as in-process and over HTTP) on the Restate session store, so that the inspector, the
 * CLI and Electron hosts work unchanged. Its runtime's events are published to the namespace's
 * `sessionEvents` feed, and `onEvent` follows that feed by long polling, so that a client sees
 * the events of every client of the namespace.
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
import type { SessionRuntimeOptions } from '../runtime/types.js';
import type { FeedEvent } from './event-feed.js';
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
   * Publish this client's events to the feed (default true). Each publication is a call of the
   * feed object, beside every write: a writer whose events nobody follows can turn it off.
   */
  publishEvents?: boolean;
  /** How long events are gathered before one publication (default 50 ms). */
  eventBatchMs?: number;
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
 * One client writes a given session at a time, as one runtime does in-process: a write of a
 * second client that raced it is refused (`INVALID_MESSAGE`: its seq no longer follows), never
 * mixed in. Events of every client of the namespace reach `onEvent`.
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
    ...runtimeOptions
  } = options;
  const store = createRestateSessionStore({
    ingressUrl,
    ...(headers ? { headers } : {}),
    ...(namespace ? { namespace } : {}),
    ...(readOnly ? { readOnly } : {}),
  });
  const runtime = await createSessionRuntime({ ...runtimeOptions, store, root: `restate:${ingressUrl}` });
  const handlers = createSessionHandlers(runtime);
  const ingress = clients.connect({ url: ingressUrl, ...(headers ? { headers } : {}) });
  const feedKey = namespace || 'default';
  const object = (name: string, key: string) =>
    ingress.objectClient({ name } as VirtualObjectDefinition<string, unknown>, key) as unknown as Caller;
  const waitService = ingress.serviceClient({ name: 'sessionEventsWait' } as never) as unknown as Caller;
  const origin = randomUUID();

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
    ? runtime.subscribe((event) => {
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
          )) as { events: FeedEvent[] };
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
      await runtime.close();
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
      await flush();
      await store.close();
    },
  };
}
