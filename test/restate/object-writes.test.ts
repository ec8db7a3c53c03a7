/**
 * The write path of `createRestateSessionClient` belongs to the `session` object, against a real
 * restate-server (one for this file), the services in this process: two clients append to one
 * session at once and both succeed, in one order, nothing lost or stored twice; past the
 * threshold the object starts the compaction workflow itself, one at a time per session; a
 * message sent twice under one idempotency key, by two clients at once, is stored once; the
 * append's event comes from the object, not from a runtime of the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { restateServices } from '../../src/restate/services.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let one: RestateSessionClient;
let two: RestateSessionClient;
let watcher: RestateSessionClient;
// Small, so that 2 × 30 appends of ~60 tokens pass the threshold several times.
const LIMITS = { maxTokens: 2_500, keepRecentTokens: 400, replyReserveTokens: 200 };
const events: SessionEvent[] = [];
const waiters: { test: (e: SessionEvent) => boolean; resolve: () => void }[] = [];

/** Resolves at the first event (seen or to come) that passes `test`. */
function eventWhere(test: (e: SessionEvent) => boolean): Promise<void> {
  if (events.some(test)) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ test, resolve }));
}

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: restateServices(), logger: () => undefined });
  await server.register(endpoint.url);
  const options = { ingressUrl: server.ingressUrl, namespace: 'w', limits: LIMITS };
  one = await createRestateSessionClient(options);
  two = await createRestateSessionClient(options);
  watcher = await createRestateSessionClient({ ...options, readOnly: true, pollMs: 2_000 });
  watcher.onEvent((event) => {
    events.push(event);
    for (const w of [...waiters]) {
      if (w.test(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  await watcher.eventsConnected();
});

afterAll(async () => {
  await one?.close();
  await two?.close();
  await watcher?.close();
  await endpoint?.close();
});

const text = (who: string, i: number) => `${who} ${i}: ${'the quick brown fox jumps '.repeat(10)}`;

describe('the session object takes the writes', () => {
  it('takes two clients appending to one session at once: both succeed, one order, none lost or twice', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'race' });
    const N = 30;
    const appendAll = (client: RestateSessionClient, who: string) =>
      Promise.all(
        Array.from({ length: N }, (_, i) =>
          client.addMessage(info.id, { role: 'user', content: text(who, i) }),
        ),
      );
    const [fromOne, fromTwo] = await Promise.all([appendAll(one, 'one'), appendAll(two, 'two')]);
    const acknowledged: Message[] = [...fromOne, ...fromTwo];

    // Every answer is the stored message: its own seq, its own text.
    expect(new Set(acknowledged.map((m) => m.seq)).size).toBe(2 * N);
    fromOne.forEach((m, i) => expect(m.content).toBe(text('one', i)));
    fromTwo.forEach((m, i) => expect(m.content).toBe(text('two', i)));

    // The object compacted past the threshold on its own: wait for its last compaction to end.
    await eventWhere((e) => e.sessionId === info.id && e.type === 'session.compaction.completed');
    const history = await two.getHistory(info.id);
    // Each acknowledged message exactly once, as acknowledged, in one order (seq) ...
    expect(history.map((m) => m.id).sort()).toEqual(acknowledged.map((m) => m.id).sort());
    const bySeq = new Map(acknowledged.map((m) => [m.seq, m]));
    for (const stored of history) expect(stored).toEqual(bySeq.get(stored.seq));
    expect(history.map((m) => m.seq)).toEqual([...history.map((m) => m.seq)].sort((a, b) => a - b));
    // ... and each client's appends in the order it made them.
    const order = (who: string) => history.filter((m) => (m.content as string).startsWith(`${who} `));
    expect(order('one').map((m) => m.content)).toEqual(fromOne.map((m) => m.content));
    expect(order('two').map((m) => m.content)).toEqual(fromTwo.map((m) => m.content));

    const checkpoint = await one.getCheckpoint(info.id);
    expect(checkpoint?.compactionInfo.archivedThroughSeq).toBeGreaterThanOrEqual(0);
    expect((await one.getMessages(info.id)).length).toBeLessThan(2 * N);
  });

  it('runs one compaction of a session at a time, started at the threshold by the object', async () => {
    const info = await two.create({ type: 'feature', agentType: 'dev', featureId: 'serial' });
    for (let i = 0; i < 40; i++) await one.addMessage(info.id, { role: 'user', content: text('s', i) });
    const last = await one.addMessage(info.id, { role: 'assistant', content: 'done' });
    await eventWhere(
      (e) => e.sessionId === info.id && e.type === 'session.message.appended' && e.message.id === last.id,
    );
    await eventWhere((e) => e.sessionId === info.id && e.type === 'session.compaction.completed');
    const mine = events.filter((e) => e.sessionId === info.id);
    const compactions = mine.filter((e) => e.type.startsWith('session.compaction.'));
    expect(compactions.length).toBeGreaterThanOrEqual(2);
    // Started and ended alternate: never a second one while one runs.
    let running = 0;
    for (const e of compactions) {
      if (e.type === 'session.compaction.started') {
        expect(e.trigger).toBe('threshold');
        running++;
      } else running--;
      expect([0, 1]).toContain(running);
    }
    // Every append's event, once, from the object.
    const appended = mine.filter((e) => e.type === 'session.message.appended');
    expect(appended.map((e) => (e.type === 'session.message.appended' ? e.message.seq : -1))).toEqual(
      Array.from({ length: 41 }, (_, i) => i),
    );
  });

  it('stores a message sent under one idempotency key by two clients at once once', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'keyed' });
    const message = { role: 'user' as const, content: 'only once', idempotencyKey: 'k-1' };
    const [a, b] = await Promise.all([one.addMessage(info.id, message), two.addMessage(info.id, message)]);
    expect(a).toEqual(b);
    const again = await two.addMessage(info.id, message);
    expect(again).toEqual(a);
    expect(await one.getHistory(info.id)).toEqual([a]);
    await expect(one.addMessage(info.id, { ...message, content: 'something else' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
  });

  it('answers compact by joining or starting the workflow; refuses appends to an archived session', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'manual' });
    for (let i = 0; i < 6; i++) await one.addMessage(info.id, { role: 'user', content: text('m', i) });
    // Two at once: the second joins the first, or (when the first ended before it asked) finds
    // nothing more to fold; either way one compaction, one new checkpoint version.
    const options = { keepRecentTokens: 100 };
    const [x, y] = await Promise.all([one.compact(info.id, options), two.compact(info.id, options)]);
    expect([x.kind, y.kind]).toContain('compacted');
    expect(y.checkpointVersion).toBe(x.checkpointVersion);
    expect(x.checkpointVersion).toBe(1);
    expect((await two.getCheckpoint(info.id))?.version).toBe(x.checkpointVersion);
    await two.archive(info.id);
    await expect(one.addMessage(info.id, { role: 'user', content: 'late' })).rejects.toMatchObject({
      code: 'SESSION_ARCHIVED',
    });
  });
});
