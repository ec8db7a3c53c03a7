/**
 * The event feed against a real restate-server (one for this file), a small feed (10 publications
 * kept, 5 dropped at a time) served in this process: a reader that keeps up reads every event once,
 * in order; a reader whose cursor fell behind the oldest publication kept is told which events it
 * lost, and reads on from the oldest kept without a hole; the feed's keys stay bounded.
 */
import * as clients from '@restatedev/restate-sdk-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createSessionEvents, sessionEventsWait, type FeedPage } from '../../src/restate/event-feed.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
const feed = createSessionEvents({ size: 10, trim: 5 });

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: [feed, sessionEventsWait], logger: () => undefined });
  await server.register(endpoint.url);
});

afterAll(async () => {
  await endpoint?.close();
});

const event = (i: number): SessionEvent => ({
  type: 'session.archived',
  sessionId: `feature--e${i}--dev`,
  at: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
});

describe('the event feed', () => {
  it('gives a reader that keeps up every event once; tells one that fell behind what it lost', async () => {
    const ingress = clients.connect({ url: server.ingressUrl });
    const object = ingress.objectClient(feed, 'gap');
    const read = (after: number) => object.read({ after }) as Promise<FeedPage>;

    // Two events in one publication, then one per publication.
    await object.publish({ origin: 'a', events: [event(1), event(2)] });
    let cursor = 0;
    const seen: number[] = [];
    for (let i = 3; i <= 8; i++) {
      await object.publish({ origin: 'a', events: [event(i)] });
      const page = await read(cursor);
      expect(page.lost).toBeNull();
      seen.push(...page.events.map((e) => e.n));
      cursor = page.events[page.events.length - 1]!.n;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await read(cursor)).events).toEqual([]);
    const newest = await read(7);
    expect(newest.events.map((e) => [e.n, e.event.sessionId])).toEqual([[8, 'feature--e8--dev']]);

    // 20 more publications: the feed keeps at most 15, so events 1.. are gone for a reader at 0.
    for (let i = 9; i <= 28; i++) await object.publish({ origin: 'b', events: [event(i)] });
    const behind = await read(0);
    expect(behind.next).toBe(29);
    expect(behind.lost).not.toBeNull();
    expect(behind.lost!.from).toBe(1);
    const ns = behind.events.map((e) => e.n);
    // Nothing between the loss and what is read, and nothing after it missing.
    expect(ns[0]).toBe(behind.lost!.to + 1);
    expect(ns).toEqual(Array.from({ length: 28 - ns[0]! + 1 }, (_, i) => ns[0]! + i));
    expect(ns.length).toBeGreaterThanOrEqual(10);
    expect(ns.length).toBeLessThanOrEqual(15);
    // A reader still inside the feed loses nothing.
    const inside = await read(24);
    expect(inside.lost).toBeNull();
    expect(inside.events.map((e) => e.n)).toEqual([25, 26, 27, 28]);
  });
});
