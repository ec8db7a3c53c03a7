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
 * The runtime the client serves is restate-runtime.ts; this file is its handlers and the feed.
 */
import type { VirtualObjectDefinition } from '@restatedev/restate-sdk-clients';
import * as clients from '@restatedev/restate-sdk-clients';
import { SessionError } from '../core/errors.js';
import { createSessionApiFromInvoke, type EventFeed } from '../ipc/api.js';
import type { SessionAPI, SessionChannel } from '../ipc/channels.js';
import { createSessionHandlers } from '../ipc/handlers.js';
import type { FeedPage } from './event-feed.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import { createRestateRuntime, type RestateRuntimeOptions } from './restate-runtime.js';

ensurePromiseWithResolvers();

/**
 * Options of {@link createRestateSessionClient}: where the sessions are (`ingressUrl`, `headers`,
 * `namespace`), `readOnly`, `publishEvents`, the runtime options (limits, agents, compactor,
 * model...), and how the event feed is followed.
 */
export interface RestateSessionClientOptions extends RestateRuntimeOptions {
  /** How long one long poll of the event feed waits (default 20 s). */
  pollMs?: number;
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
    pollMs = 20_000,
    onEventsLost = (lost: { from: number; to: number }) =>
      console.error(
        `[dagent-sessions] [restate] the event feed dropped events ${lost.from}..${lost.to} ` +
          'before this client read them; read the sessions again to catch up',
      ),
    ...runtimeOptions
  } = options;
  const { ingressUrl } = options;
  const { runtime, ingress, feedKey, close } = await createRestateRuntime(runtimeOptions);
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
      await close();
    },
  };
}
