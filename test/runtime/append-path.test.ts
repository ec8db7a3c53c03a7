/**
 * The append path on the real runtime: one event to the session's actor per append, none to the
 * supervisor while the session is loaded and in use; the supervisor still learns what matters
 * (an idle session after the calls, a compaction) and keeps its cap.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const key = { type: 'feature', agentType: 'dev', featureId: 'append-path' } as const;

/** A session loaded by a first append, then 20 appends one after the other, `watch`ed by `inspect`. */
async function twentyAppends(inspect: (event: InspectionEvent) => void, watch: (on: boolean) => void) {
  const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false, inspect });
  const session = await runtime.createSession(key);
  await runtime.addMessage(session.id, { role: 'user', content: 'first: loads the session' });
  watch(true);
  for (let i = 0; i < 20; i++)
    await runtime.addMessage(session.id, { role: 'user', content: `message ${i}` });
  watch(false);
  return { runtime, session };
}

describe('the append path', () => {
  it('sends one event to the session actor per append and none to the supervisor', async () => {
    let counting = false;
    const events: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (!counting || event.type !== '@xstate.event') return;
      const target = String((event.actorRef as { id?: string }).id);
      // The actor's own effects: its invoked actors' answers, its writer's batches.
      if (event.event.type.startsWith('xstate.') || event.event.type.startsWith('PERSIST')) return;
      events.push(`${event.event.type} -> ${target.startsWith('session:') ? 'session' : target}`);
    };
    const { runtime, session } = await twentyAppends(inspect, (on) => (counting = on));
    expect(events).toEqual(Array.from({ length: 20 }, () => 'APPEND -> session'));
    expect((await runtime.getMessages(session.id)).map((m) => m.content).slice(1)).toEqual(
      Array.from({ length: 20 }, (_, i) => `message ${i}`),
    );
    await runtime.close();
  });

  it('starts no actor per append: one writer takes every batch while the session is loaded', async () => {
    let counting = false;
    const created: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (counting && event.type === '@xstate.actor')
        created.push(String((event.actorRef as { id?: string }).id));
    };
    const { runtime, session } = await twentyAppends(inspect, (on) => (counting = on));
    expect(created).toEqual([]);
    expect(await runtime.getMessages(session.id)).toHaveLength(21);
    await runtime.close();
  });

  it('hands the appends of one turn to the actor as one event and one write, each caller its own message', async () => {
    let counting = false;
    const events: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (!counting || event.type !== '@xstate.event') return;
      const type = event.event.type;
      if (type === 'PERSIST.DONE')
        events.push('persisted'); // the writer's answer
      else if (!type.startsWith('xstate.') && type !== 'PERSIST') events.push(type);
    };
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false, inspect });
    const session = await runtime.createSession(key);
    await runtime.addMessage(session.id, { role: 'user', content: 'first: loads the session' });
    await runtime.estimateSize(session.id); // the actor has taken it (and told its listeners)
    counting = true;
    const texts = Array.from({ length: 50 }, (_, i) => `burst ${i}`);
    const stored = await Promise.all(
      texts.map((content) => runtime.addMessage(session.id, { role: 'user', content })),
    );
    // The callers are answered once the batch is durable; the actor takes the writer's answer
    // after they resumed, and a read waits for it.
    const read = await runtime.getMessages(session.id);
    counting = false;
    expect(events.filter((e) => e !== 'COUNTED')).toEqual(['APPEND.MANY', 'persisted']);
    expect(stored.map((m) => m.content)).toEqual(texts);
    expect(stored.map((m) => m.seq)).toEqual(texts.map((_, i) => i + 1));
    expect(read.map((m) => m.content).slice(1)).toEqual(texts);
    await runtime.close();
  });

  it('keeps the call order when a keyed append (counted first) splits the turn in two batches', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false });
    const session = await runtime.createSession(key);
    await runtime.addMessage(session.id, { role: 'user', content: 'first: loads the session' });
    const inputs = Array.from({ length: 30 }, (_, i) => ({
      role: 'user' as const,
      content: `m${i}`,
      ...(i === 10 || i === 20 ? { idempotencyKey: `k${i}` } : {}),
    }));
    const stored = await Promise.all(inputs.map((input) => runtime.addMessage(session.id, input)));
    expect(stored.map((m) => m.content)).toEqual(inputs.map((i) => i.content));
    expect(stored.map((m) => m.seq)).toEqual(inputs.map((_, i) => i + 1));
    expect((await runtime.getMessages(session.id)).map((m) => m.content).slice(1)).toEqual(
      inputs.map((i) => i.content),
    );
    await runtime.close();
  });

  it('builds no runtime events while nobody listens; a listener hears those after it subscribes', async () => {
    let clockReads = 0;
    const now = () => (clockReads++, new Date('2026-01-01T00:00:00.000Z'));
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false, now });
    const session = await runtime.createSession(key);
    await runtime.addMessage(session.id, { role: 'user', content: 'first: loads the session' });
    const before = clockReads;
    for (let i = 0; i < 10; i++)
      await runtime.addMessage(session.id, { role: 'user', content: `quiet ${i}` });
    // One read per append (its timestamp): no event was stamped, for nobody would get it.
    expect(clockReads - before).toBe(10);
    await runtime.estimateSize(session.id); // the actor has taken the last one
    const heard: string[] = [];
    runtime.subscribe((e) => {
      if (e.type === 'session.message.appended') heard.push(String(e.message.content));
    });
    await runtime.addMessage(session.id, { role: 'user', content: 'heard' });
    // Published once the actor takes the append: after the call resolved, before a read answers.
    await runtime.estimateSize(session.id);
    expect(heard).toEqual(['heard']);
    await runtime.close();
  });

  it('tells the supervisor nothing per call: calls on a loaded session, one a turn, send it no event', async () => {
    let supervisorEvents = 0;
    const inspect = (event: InspectionEvent) => {
      // The supervisor is the root actor of the runtime's system.
      if (event.type === '@xstate.event' && event.actorRef.sessionId === event.rootId) supervisorEvents++;
    };
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false, inspect });
    const session = await runtime.createSession(key);
    await runtime.addMessage(session.id, { role: 'user', content: 'first: loads the session' });
    await runtime.estimateSize(session.id);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const before = supervisorEvents;
    for (let i = 0; i < 10; i++) {
      await runtime.addMessage(session.id, { role: 'user', content: `m${i}` });
      await runtime.estimateSize(session.id);
      // The next call in a later turn: each call starts on a session no call uses.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(supervisorEvents - before).toBe(0);
    expect(runtime.activeSessionIds()).toEqual([session.id]);
    await runtime.close();
  });
});
