/**
 * The steps a sequential append costs the session actor. Every XState microstep copies the
 * snapshot and recomputes its state value, and every `assign` copies the context: an append that
 * finds the writer free is one step (taken and sent at once), and the late count that ends a wait
 * for exact counts settles the threshold decision in its own step (docs/architecture.md, "Steps
 * of an append").
 */
import { createActor, fromPromise, waitFor, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createWriter, sessionMachine, type AppendReply } from '../../machines/session.machine.js';
import { EMPTY_LOAD, LIMITS } from './session-harness.js';

function start() {
  const writes: (() => void)[] = [];
  const machine = sessionMachine.provide({
    actors: {
      load: fromPromise(async () => ({ ...EMPTY_LOAD })),
      // Each batch is durable when the test says so.
      persist: createWriter(() => new Promise<undefined>((resolve) => writes.push(() => resolve(undefined)))),
    },
  });
  const steps: string[] = [];
  const actor = createActor(machine, {
    input: { sessionId: 's1', limits: LIMITS },
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.microstep' && event.actorRef === actor) steps.push(event.event.type);
    },
  });
  actor.start();
  const append = (n: number, uncounted = true) =>
    new Promise<AppendReply>((reply) =>
      actor.send({
        type: 'APPEND',
        message: { id: `m${n}`, role: 'user', content: 'x', timestamp: 't', tokens: 300 },
        reply,
        uncounted,
      }),
    );
  /** The microsteps the actor takes for what `act` sends it. */
  const stepsOf = (act: () => void) => {
    steps.length = 0;
    act();
    return [...steps];
  };
  return { actor, writes, append, stepsOf };
}

describe('the steps of a sequential append', () => {
  it('sends an append that finds the writer free in one step, and queues one that does not', async () => {
    const s = start();
    await waitFor(s.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    let first!: Promise<AppendReply>;
    expect(s.stepsOf(() => (first = s.append(0)))).toEqual(['APPEND']);
    expect(s.actor.getSnapshot().matches({ ready: { writer: 'appending' } })).toBe(true);
    expect(s.actor.getSnapshot().context.inFlight.map((p) => p.message.seq)).toEqual([0]);
    expect(s.writes).toHaveLength(1);

    // Queued behind the write in flight, and taken as the next batch once it is durable.
    let second!: Promise<AppendReply>;
    expect(s.stepsOf(() => (second = s.append(1)))).toEqual(['APPEND']);
    const third = s.append(2);
    expect(s.actor.getSnapshot().context.queue.map((p) => p.message.seq)).toEqual([1, 2]);
    s.writes[0]!();
    expect(await first).toMatchObject({ ok: true, message: { seq: 0 } });
    await waitFor(s.actor, (snap) => snap.context.inFlight.length === 2);
    expect(s.actor.getSnapshot().context.inFlight.map((p) => p.message.seq)).toEqual([1, 2]);
    expect(s.actor.getSnapshot().context.queue).toEqual([]);
    s.writes[1]!();
    expect(await second).toMatchObject({ ok: true, message: { seq: 1 } });
    expect(await third).toMatchObject({ ok: true, message: { seq: 2 } });
    expect(s.writes).toHaveLength(2);
  });
});
