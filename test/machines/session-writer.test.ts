/**
 * The session actor's writer (`createWriter`): one actor for every batch while the session is
 * ready, batches one at a time, a failed batch (a throw or a rejection) answered as failed, and
 * an answer that comes after the session left `ready` dropped. An effect may answer the callers
 * itself once the batch is durable (`acknowledge`): the actor then answers nobody a second time,
 * and the writer's `answered` tells the effect when the actor has taken the batch.
 */
import { SimulatedClock, createActor, fromPromise, waitFor, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  createWriter,
  sessionMachine,
  type AppendReply,
  type PersistInput,
  type PersistWrite,
  type WriterOptions,
} from '../../machines/session.machine.js';
import { LIMITS, EMPTY_LOAD } from './session-harness.js';

function start(write: PersistWrite, options?: WriterOptions) {
  const created: string[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.actor') created.push(String((event.actorRef as { id?: string }).id));
  };
  const machine = sessionMachine.provide({
    actors: {
      load: fromPromise(async () => ({ ...EMPTY_LOAD })),
      persist: createWriter(write, options),
      close: fromPromise(async () => undefined),
    },
  });
  const actor = createActor(machine, {
    clock: new SimulatedClock(),
    input: { sessionId: 's1', limits: LIMITS },
    inspect,
  });
  actor.start();
  const append = (content: string) =>
    new Promise<AppendReply>((reply) =>
      actor.send({
        type: 'APPEND',
        message: { id: content, role: 'user', content, timestamp: 't', tokens: 1 },
        reply,
      }),
    );
  return { actor, created, append };
}

describe('the session writer', () => {
  it('lets the effect answer once durable; the actor takes the batch later and answers nobody twice', async () => {
    let taken: (() => void) | null = null;
    const answeredWith: { liveCount: number; inFlight: number }[] = [];
    const replies: string[] = [];
    let heard!: () => void;
    const answered = new Promise<void>((resolve) => (heard = resolve));
    const s = start(
      async (input) => {
        input.acknowledge!([{ seq: input.messages[0]!.seq, tokens: 7 }]);
        await new Promise<void>((resolve) => (taken = resolve)); // the test lets the actor take it
        return { counted: [{ seq: input.messages[0]!.seq, tokens: 7 }], acknowledged: true };
      },
      {
        answered: (input: PersistInput) => {
          const context = s.actor.getSnapshot().context;
          answeredWith.push({ liveCount: context.liveCount, inFlight: context.inFlight.length });
          expect(input.messages).toHaveLength(1);
          heard();
        },
      },
    );
    const reply = await new Promise<AppendReply>((resolve) =>
      s.actor.send({
        type: 'APPEND',
        message: { id: 'a', role: 'user', content: 'a', timestamp: 't', tokens: 9 },
        uncounted: true,
        reply: (r) => {
          replies.push(r.ok ? 'ok' : 'failed');
          resolve(r);
        },
      }),
    );
    // Answered with the count taken, while the actor still holds the batch in flight.
    expect(reply).toMatchObject({ ok: true, message: { seq: 0, tokens: 7 } });
    expect(s.actor.getSnapshot().context).toMatchObject({ liveCount: 0, liveTokens: 0 });
    expect(answeredWith).toEqual([]);
    taken!();
    await answered;
    // `answered` comes once the actor has the batch in its figures, with its exact count.
    expect(answeredWith).toEqual([{ liveCount: 1, inFlight: 0 }]);
    expect(s.actor.getSnapshot().context).toMatchObject({ liveCount: 1, liveTokens: 7, uncounted: 0 });
    expect(replies).toEqual(['ok']);
  });

  it('is one actor for all batches: a batch is an event to it, not an actor of its own', async () => {
    const batches: number[][] = [];
    const s = start(async (input) => {
      batches.push(input.messages.map((m) => m.seq));
      return undefined;
    });
    for (let i = 0; i < 5; i++) expect((await s.append(`m${i}`)).ok).toBe(true);
    // Sent while the writer is busy with 'a': 'b' and 'c' go together in the next batch.
    await Promise.all([s.append('a'), s.append('b'), s.append('c')]);
    expect(batches).toEqual([[0], [1], [2], [3], [4], [5], [6, 7]]);
    expect(s.created.filter((id) => id === 'writer')).toHaveLength(1);
    expect(s.actor.getSnapshot().context).toMatchObject({ lastSeq: 7, liveCount: 8, inFlight: [] });
  });

  it('sends the next batch only once the previous one is answered', async () => {
    const started: string[][] = [];
    const gates: (() => void)[] = [];
    const s = start(async (input) => {
      started.push(input.messages.map((m) => m.content as string));
      await new Promise<void>((resolve) => gates.push(resolve));
      return undefined;
    });
    await waitFor(s.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    const first = s.append('first');
    const second = s.append('second');
    const third = s.append('third');
    expect(started).toEqual([['first']]);
    gates.shift()!();
    expect((await first).ok).toBe(true);
    expect(started).toEqual([['first'], ['second', 'third']]);
    gates.shift()!();
    expect([(await second).ok, (await third).ok]).toEqual([true, true]);
  });

  it('fails a batch whose write throws before its first await, and the next batch still goes', async () => {
    let calls = 0;
    const s = start((input) => {
      calls++;
      if (input.messages[0]!.content === 'bad') throw new Error('disk gone');
      return Promise.resolve(undefined);
    });
    const bad = await s.append('bad');
    expect(bad).toMatchObject({ ok: false, error: { message: 'disk gone' } });
    const good = await s.append('good');
    expect(good).toMatchObject({ ok: true, message: { content: 'good', seq: 1 } });
    expect(calls).toBe(2);
    // Nothing of the failed batch counts.
    expect(s.actor.getSnapshot().context).toMatchObject({ liveCount: 1, lastSeq: 1 });
  });

  it('fails a batch whose write rejects; its callers hear the error', async () => {
    const s = start(async () => {
      throw Object.assign(new Error('no space'), { code: 'DISK_FULL' });
    });
    const replies = await Promise.all([s.append('x'), s.append('y')]);
    expect(replies.map((r) => (r.ok ? 'ok' : (r.error as { code: string }).code))).toEqual([
      'DISK_FULL',
      'DISK_FULL',
    ]);
    expect(s.actor.getSnapshot().context).toMatchObject({ liveCount: 0, inFlight: [] });
  });

  it('drops an answer that comes after the session actor stopped', async () => {
    let release!: () => void;
    const s = start(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return undefined;
    });
    let replied = false;
    void s.append('late').then(() => (replied = true));
    await waitFor(s.actor, (snap) => snap.matches({ ready: { writer: 'appending' } }));
    s.actor.stop();
    release();
    // Every microtask the answer could ride on has run by the next turn of the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(replied).toBe(false);
    expect(s.actor.getSnapshot().status).toBe('stopped');
  });
});
