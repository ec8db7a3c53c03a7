/**
 * Events between processes through Restate, which has no push to external clients: a feed object
 * `sessionEvents` per namespace keeps the last {@link FEED_SIZE} events, each in its own key
 * (`event:<n>`, so that no value grows with the feed) with a cursor `n`; the stateless
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
  /** Number of the next event; the feed holds `first..next-1`. */
  next: number;
  first: number;
}

const HEAD: FeedHead = { next: 1, first: 1 };

async function eventsAfter(ctx: restate.ObjectSharedContext | restate.ObjectContext, after: number) {
  const head = (await ctx.get<FeedHead>('head')) ?? HEAD;
  const events: FeedEvent[] = [];
  for (let n = Math.max(after + 1, head.first); n < head.next && events.length < 200; n++) {
    const stored = await ctx.get<FeedEvent>(`event:${n}`);
    if (stored !== null) events.push(stored);
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
        let { next, first } = head;
        for (const event of batch.events) {
          ctx.set(`event:${next}`, { n: next, origin: batch.origin, event } satisfies FeedEvent);
          next++;
        }
        while (next - first > FEED_SIZE) ctx.clear(`event:${first++}`);
        ctx.set('head', { next, first });
        // Wake every reader waiting for a newer event.
        for (const id of (await ctx.get<string[]>('waiters')) ?? []) ctx.resolveAwakeable(id, next);
        ctx.clear('waiters');
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
      else ctx.set('waiters', [...((await ctx.get<string[]>('waiters')) ?? []), args.awakeable].slice(-256));
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
