/**
 * Events between processes through Restate, which has no push to external clients: a feed object
 * `sessionEvents` per namespace keeps the last {@link FEED_SIZE} publications (a key per
 * publication, `b:<i>`, so that no value grows with the feed; the head stays a few numbers), each
 * event numbered `n`; the stateless `sessionEventsWait.wait` holds a reader until an event past
 * its cursor arrives or its timeout passes (an awakeable registered with the feed, raced with a
 * durable sleep), so that a client follows the feed by long polling, without polling in a loop.
 * Delivery is by cursor: a client that reconnects misses nothing still in the feed, and one whose
 * cursor fell behind the oldest publication kept is told which events it lost (`lost`), never
 * left to find out.
 */
import * as restate from '@restatedev/restate-sdk';
import type { SessionEvent } from '../runtime/events.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';

ensurePromiseWithResolvers();

/**
 * How many publications the feed keeps (an append's is one event; a client runtime's may carry a
 * few): between {@link FEED_SIZE} and {@link FEED_SIZE} + {@link FEED_TRIM}, the oldest dropped
 * {@link FEED_TRIM} at a time.
 */
export const FEED_SIZE = 1_000;
/** How many of the oldest publications go at once when the feed passes {@link FEED_SIZE}. */
export const FEED_TRIM = 100;
/** Most events one read answers (a reader far behind reads again from its new cursor). */
export const FEED_PAGE = 200;

/** An event in the feed: its number, and which client published it. */
export interface FeedEvent {
  n: number;
  origin: string;
  event: SessionEvent;
}

/** What a read of the feed answers. */
export interface FeedPage {
  events: FeedEvent[];
  /** Number of the next event to be published. */
  next: number;
  /** Events the reader's cursor fell behind: dropped from the feed before it read them; null when none. */
  lost: { from: number; to: number } | null;
}

interface FeedHead {
  /** Number of the next event. */
  next: number;
  /** Publications kept: `b:<firstBatch>` .. `b:<nextBatch - 1>`, each a list of events. */
  firstBatch: number;
  nextBatch: number;
  /** Number of the oldest event kept (the first of `b:<firstBatch>`). */
  oldest: number;
  /** Awakeables of readers waiting for the next event. */
  waiters?: string[];
}

type Reader = restate.ObjectSharedContext | restate.ObjectContext;
const batchKey = (i: number) => `b:${i}`;

async function headOf(ctx: Reader): Promise<FeedHead> {
  const head = await ctx.get<FeedHead & { batches?: unknown }>('head');
  if (head === null) return { next: 1, firstBatch: 0, nextBatch: 0, oldest: 1 };
  // A head of the first layout (a list of its batches): its events are left behind, numbering goes on.
  if (head.firstBatch === undefined)
    return { next: head.next, firstBatch: 0, nextBatch: 0, oldest: head.next };
  return head;
}

/** The first publication holding an event past `after` (the newest one first: a reader that keeps up reads one key). */
async function firstBatchAfter(ctx: Reader, head: FeedHead, after: number): Promise<number> {
  const firstOf = async (i: number) => (await ctx.get<FeedEvent[]>(batchKey(i)))?.[0]?.n ?? Infinity;
  if (head.nextBatch === head.firstBatch || after < head.oldest) return head.firstBatch;
  if ((await firstOf(head.nextBatch - 1)) <= after + 1) return head.nextBatch - 1;
  // The last publication whose first event is at most after + 1.
  let lo = head.firstBatch;
  let hi = head.nextBatch - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((await firstOf(mid)) <= after + 1) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

async function eventsAfter(ctx: Reader, after: number): Promise<FeedPage> {
  const head = await headOf(ctx);
  const lost =
    after + 1 < head.oldest && after + 1 < head.next ? { from: after + 1, to: head.oldest - 1 } : null;
  const events: FeedEvent[] = [];
  for (let i = await firstBatchAfter(ctx, head, after); i < head.nextBatch && events.length < FEED_PAGE;) {
    const wanted: number[] = [];
    for (let j = i; j < head.nextBatch && wanted.length < 8; j++) wanted.push(j);
    const got = await restate.RestatePromise.all(
      wanted.map((j) => ctx.get<FeedEvent[]>(batchKey(j)) as restate.RestatePromise<FeedEvent[] | null>),
    );
    for (const batch of got) events.push(...(batch ?? []).filter((e) => e.n > after));
    i += wanted.length;
  }
  return { events, next: head.next, lost };
}

/**
 * Creates the feed object; `size` and `trim` change how much it keeps (tests keep a small feed).
 *
 * @param options - `size` (default {@link FEED_SIZE}) and `trim` (default {@link FEED_TRIM}) publications.
 * @returns the `sessionEvents` object definition.
 * @example
 * ```ts
 * await serveRestateEndpoint({ services: [createSessionEvents({ size: 10_000 }), sessionEventsWait] });
 * ```
 */
export function createSessionEvents(options: { size?: number; trim?: number } = {}) {
  const size = options.size ?? FEED_SIZE;
  const trim = options.trim ?? FEED_TRIM;
  return restate.object({
    name: 'sessionEvents',
    handlers: {
      publish: restate.handlers.object.exclusive(
        { journalRetention: 0 },
        async (
          ctx: restate.ObjectContext,
          batch: { origin: string; events: SessionEvent[] },
        ): Promise<number> => {
          const head = await headOf(ctx);
          if (batch.events.length === 0) return head.next;
          // One key per publication: a publication costs the same few writes however many events it
          // carries, and however long the feed is.
          const numbered = batch.events.map((event, i): FeedEvent => ({
            n: head.next + i,
            origin: batch.origin,
            event,
          }));
          ctx.set(batchKey(head.nextBatch), numbered);
          const next = head.next + numbered.length;
          let { firstBatch, oldest } = head;
          if (head.nextBatch + 1 - firstBatch > size + trim) {
            for (let i = firstBatch; i < firstBatch + trim; i++) ctx.clear(batchKey(i));
            firstBatch += trim;
            oldest = (await ctx.get<FeedEvent[]>(batchKey(firstBatch)))?.[0]?.n ?? next;
          }
          ctx.set('head', { next, firstBatch, nextBatch: head.nextBatch + 1, oldest } satisfies FeedHead);
          // Wake every reader waiting for a newer event.
          for (const id of head.waiters ?? []) ctx.resolveAwakeable(id, next);
          return next;
        },
      ),
      /** Registers an awakeable to resolve at the next event, or resolves it at once if there is one after `after`. */
      addWaiter: async (
        ctx: restate.ObjectContext,
        args: { after: number; awakeable: string },
      ): Promise<void> => {
        const head = await headOf(ctx);
        if (head.next - 1 > args.after) ctx.resolveAwakeable(args.awakeable, head.next);
        // Bounded: a waiter whose poll timed out stays until the next event; the oldest go first.
        else ctx.set('head', { ...head, waiters: [...(head.waiters ?? []), args.awakeable].slice(-256) });
      },
      read: restate.handlers.object.shared(
        { journalRetention: 0 },
        async (ctx: restate.ObjectSharedContext, args: { after: number }) => eventsAfter(ctx, args.after),
      ),
    },
    options: { enableLazyState: true },
  });
}

/** The feed of a namespace (key = namespace, `default` for none). */
export const sessionEvents = createSessionEvents();

/** Waits for events past a cursor (long poll). */
export const sessionEventsWait = restate.service({
  name: 'sessionEventsWait',
  handlers: {
    wait: restate.handlers.handler(
      { journalRetention: 0 },
      async (
        ctx: restate.Context,
        args: { namespace: string; after: number; timeoutMs: number },
      ): Promise<FeedPage> => {
        const feed = ctx.objectClient(sessionEvents, args.namespace);
        const { id, promise } = ctx.awakeable<number>();
        await feed.addWaiter({ after: args.after, awakeable: id });
        await restate.RestatePromise.race([
          promise,
          ctx.sleep(Math.min(Math.max(args.timeoutMs, 0), 60_000)),
        ]);
        return feed.read({ after: args.after });
      },
    ),
  },
});
