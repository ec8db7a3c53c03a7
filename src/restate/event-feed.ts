/**
 * Events between processes through Restate, which has no push to external clients: a feed object
 * `sessionEvents` per namespace keeps the last {@link FEED_SIZE} events or so, a key per
 * publication (`batch:<n>`, so that no value grows with the feed), each event numbered `n`; the stateless
 * `sessionEventsWait.wait` holds a reader until an event past its cursor arrives or its timeout
 * passes (an awakeable registered with the feed, raced with a durable sleep), so that a client
 * follows the feed by long polling, without polling in a loop. Delivery is by cursor: a client
 * that reconnects misses nothing still in the feed.
 */
import * as restate from '@restatedev/restate-sdk';
import type { SessionEvent } from '../runtime/events.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';

ensurePromiseWithResolvers();

/** How many events the feed keeps. */
export const FEED_SIZE = 1_000;

/** An event in the feed: its number, and which client published it. */
export interface FeedEvent {
  n: number;
  origin: string;
  event: SessionEvent;
}

interface FeedHead {
  /** Number of the next event. */
  next: number;
  /** The batches kept, oldest first: `batch:<n>` holds events `n..n+count-1`. */
  batches: { n: number; count: number }[];
  /** Awakeables of readers waiting for the next event (in the head: a publication reads one key). */
  waiters?: string[];
}

const HEAD: FeedHead = { next: 1, batches: [] };

async function eventsAfter(ctx: restate.ObjectSharedContext | restate.ObjectContext, after: number) {
  const head = (await ctx.get<FeedHead>('head')) ?? HEAD;
  const events: FeedEvent[] = [];
  for (const batch of head.batches) {
    if (batch.n + batch.count - 1 <= after) continue;
    if (events.length >= 200) break;
    const stored = (await ctx.get<FeedEvent[]>(`batch:${batch.n}`)) ?? [];
    events.push(...stored.filter((e) => e.n > after));
  }
  return { events, next: head.next };
}

/** The feed of a namespace (key = namespace, `default` for none). */
export const sessionEvents = restate.object({
  name: 'sessionEvents',
  handlers: {
    publish: restate.handlers.object.exclusive(
      { journalRetention: 0 },
      async (
        ctx: restate.ObjectContext,
        batch: { origin: string; events: SessionEvent[] },
      ): Promise<number> => {
        const head = (await ctx.get<FeedHead>('head')) ?? HEAD;
        if (batch.events.length === 0) return head.next;
        // One key per publication: a publication costs the same few writes however many events it carries.
        const numbered = batch.events.map((event, i): FeedEvent => ({
          n: head.next + i,
          origin: batch.origin,
          event,
        }));
        ctx.set(`batch:${head.next}`, numbered);
        const batches = [...head.batches, { n: head.next, count: numbered.length }];
        let kept = batches.reduce((sum, b) => sum + b.count, 0);
        while (kept > FEED_SIZE && batches.length > 1) {
          const oldest = batches.shift()!;
          ctx.clear(`batch:${oldest.n}`);
          kept -= oldest.count;
        }
        const next = head.next + numbered.length;
        ctx.set('head', { next, batches } satisfies FeedHead);
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
      const head = (await ctx.get<FeedHead>('head')) ?? HEAD;
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

/** Waits for events past a cursor (long poll). */
export const sessionEventsWait = restate.service({
  name: 'sessionEventsWait',
  handlers: {
    wait: restate.handlers.handler(
      { journalRetention: 0 },
      async (
        ctx: restate.Context,
        args: { namespace: string; after: number; timeoutMs: number },
      ): Promise<{ events: FeedEvent[]; next: number }> => {
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
