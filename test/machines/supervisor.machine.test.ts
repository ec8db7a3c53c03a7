import { SimulatedClock, createActor, fromPromise, waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  createWriter,
  sessionMachine,
  type LoadOutput,
  type SessionMachineInput,
} from '../../machines/session.machine.js';
import { sessionIdOfActor, supervisorMachine, type SessionUses } from '../../machines/supervisor.machine.js';
import { EMPTY_LOAD } from './session-harness.js';
import type { Limits } from '../../src/core/types.js';

const LIMITS: Limits = {
  maxTokens: 1_000,
  compactAt: 0.9,
  keepRecentTokens: 100,
  replyReserveTokens: 0,
  checkpointTokens: 100,
};
const input = (sessionId: string): SessionMachineInput => ({ sessionId, limits: LIMITS });

/** Calls on sessions, as the runtime's registry counts them: the supervisor asks, is not told. */
function fakeUses() {
  const calls = new Map<string, number>();
  const used = new Map<string, number>();
  let counter = 0;
  const uses: SessionUses = {
    inUse: (id) => (calls.get(id) ?? 0) > 0,
    lastUsed: (id) => used.get(id) ?? 0,
  };
  const start = (id: string) => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    used.set(id, ++counter);
  };
  /** Ends a call; true when it was the session's last (the runtime then tells RELEASED if over the cap). */
  const end = (id: string) => {
    calls.set(id, (calls.get(id) ?? 0) - 1);
    used.set(id, ++counter);
    return calls.get(id) === 0;
  };
  return { uses, start, end };
}

function setup(options: { maxActive?: number; maxRestarts?: number; uses?: SessionUses } = {}) {
  const loads: string[] = [];
  const closes: string[] = [];
  const session = sessionMachine.provide({
    actors: {
      load: fromPromise<LoadOutput, { sessionId: string }>(async ({ input }) => {
        loads.push(input.sessionId);
        return { ...EMPTY_LOAD };
      }),
      persist: createWriter(async () => undefined),
      close: fromPromise<undefined, { sessionId: string; requestTokens: number }>(async ({ input }) => {
        closes.push(input.sessionId);
        return undefined;
      }),
    },
  });
  const clock = new SimulatedClock();
  const states = new Map<string, string>();
  const supervisor = createActor(supervisorMachine.provide({ actors: { session } }), {
    clock,
    input: { sweepIntervalMs: 1_000, idleSweeps: 2, ...options },
    // As the runtime does: the supervisor hears of its sessions' states through inspection.
    inspect: (event) => {
      const id = (event.actorRef as { id?: string }).id;
      const sessionId = id ? sessionIdOfActor(id) : null;
      if (!sessionId || event.type !== '@xstate.snapshot') return;
      const snapshot = event.snapshot as ReturnType<typeof sessionMachine.getInitialSnapshot>;
      const state =
        snapshot.status === 'active' && snapshot.matches({ ready: { writer: 'idle', compaction: 'idle' } })
          ? 'idle'
          : 'busy';
      if (states.get(sessionId) === state) return;
      states.set(sessionId, state);
      queueMicrotask(() =>
        supervisor.send({ type: 'SESSION.STATE', sessionId, state: state === 'idle' ? 'idle' : 'appending' }),
      );
    },
  });
  supervisor.start();
  const tick = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { supervisor, clock, loads, closes, tick };
}

describe('supervisor', () => {
  it('spawns one actor per session on first use, with systemId session:<id>', async () => {
    const { supervisor, loads, tick } = setup();
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'a', input: input('a') });
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'a', input: input('a') });
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'b', input: input('b') });
    await tick();
    expect(Object.keys(supervisor.getSnapshot().context.sessions).sort()).toEqual(['a', 'b']);
    expect(supervisor.system.get('session:a')).toBe(supervisor.getSnapshot().context.sessions.a!.ref);
    expect(loads.sort()).toEqual(['a', 'b']);
  });

  it('stops sessions that stay idle for the configured sweeps', async () => {
    const { supervisor, clock, closes, tick } = setup();
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'a', input: input('a') });
    await tick();
    clock.increment(1_000);
    await tick();
    expect(Object.keys(supervisor.getSnapshot().context.sessions)).toEqual(['a']);
    clock.increment(1_000);
    await tick();
    expect(closes).toEqual(['a']);
    expect(supervisor.getSnapshot().context.sessions).toEqual({});
    expect(supervisor.system.get('session:a')).toBeUndefined();
  });

  it('stops the least recently used idle sessions past maxActive', async () => {
    const { supervisor, closes, tick } = setup({ maxActive: 2 });
    for (const id of ['a', 'b']) {
      supervisor.send({ type: 'SESSION.OPEN', sessionId: id, input: input(id) });
      await tick();
    }
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'a', input: input('a') }); // a used again: b is now the oldest
    await tick();
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'c', input: input('c') });
    await tick();
    expect(closes).toEqual(['b']);
    expect(Object.keys(supervisor.getSnapshot().context.sessions).sort()).toEqual(['a', 'c']);
  });

  it(
    'maxActive is a cap: past it, idle sessions that no call ' +
      'uses are stopped as soon as they are idle or their last call ends',
    async () => {
      const calls = fakeUses();
      const { supervisor, closes, tick } = setup({ maxActive: 2, uses: calls.uses });
      const alive = () =>
        Object.entries(supervisor.getSnapshot().context.sessions)
          .filter(([, e]) => !e.closing)
          .map(([id]) => id)
          .sort();
      // As the runtime does: a call's end is told only while the supervisor is past its cap.
      const end = (id: string) => {
        if (calls.end(id) && supervisor.getSnapshot().context.overCap)
          supervisor.send({ type: 'SESSION.RELEASED', sessionId: id });
      };
      // Five sessions opened at once, each in use by a call: none may go while used.
      for (const id of ['a', 'b', 'c', 'd', 'e']) {
        calls.start(id);
        supervisor.send({ type: 'SESSION.OPEN', sessionId: id, input: input(id) });
      }
      await tick();
      expect(alive()).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(closes).toEqual([]);
      expect(supervisor.getSnapshot().context.overCap).toBe(true);
      // As the calls end, the least recently used idle ones go, down to the cap.
      end('a');
      end('b');
      await tick();
      expect(closes.sort()).toEqual(['a', 'b']);
      for (const id of ['c', 'd', 'e']) end(id);
      await tick();
      expect(alive()).toEqual(['d', 'e']);
      expect(Object.keys(supervisor.getSnapshot().context.sessions).sort()).toEqual(['d', 'e']);
      expect(supervisor.getSnapshot().context.overCap).toBe(false);
      // A session used by two calls stays until both end; the idle sweep spares it too.
      calls.start('d');
      calls.start('d');
      supervisor.send({ type: 'SESSION.OPEN', sessionId: 'f', input: input('f') });
      await tick();
      expect(alive()).toEqual(['d', 'f']);
      supervisor.send({ type: 'SWEEP' });
      supervisor.send({ type: 'SWEEP' });
      await tick();
      expect(alive()).toEqual(['d']);
      end('d');
      supervisor.send({ type: 'SWEEP' });
      supervisor.send({ type: 'SWEEP' });
      await tick();
      expect(alive()).toEqual(['d']);
      end('d');
      // A use since the last sweep restarts the count: one sweep after it is not enough.
      supervisor.send({ type: 'SWEEP' });
      await tick();
      expect(alive()).toEqual(['d']);
      calls.start('d');
      end('d');
      supervisor.send({ type: 'SWEEP' });
      await tick();
      expect(alive()).toEqual(['d']);
      supervisor.send({ type: 'SWEEP' });
      await tick();
      expect(alive()).toEqual([]);
    },
  );

  it('orders the least recently used by the calls it asks about, not by the order of opening', async () => {
    const calls = fakeUses();
    const { supervisor, closes, tick } = setup({ maxActive: 2, uses: calls.uses });
    for (const id of ['a', 'b']) {
      calls.start(id);
      supervisor.send({ type: 'SESSION.OPEN', sessionId: id, input: input(id) });
      await tick();
      calls.end(id);
    }
    // a used again by a call, which the supervisor does not hear of but asks about: b is the oldest.
    calls.start('a');
    calls.end('a');
    calls.start('c');
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'c', input: input('c') });
    await tick();
    expect(closes).toEqual(['b']);
    expect(Object.keys(supervisor.getSnapshot().context.sessions).sort()).toEqual(['a', 'c']);
  });

  it('restarts a crashed session actor by reloading it, up to maxRestarts', async () => {
    const { supervisor, loads, tick } = setup({ maxRestarts: 1 });
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'a', input: input('a') });
    await tick();
    const first = supervisor.getSnapshot().context.sessions.a!.ref;
    // A reply callback that throws inside the actor's action: the actor crashes.
    const crash = () =>
      supervisor.getSnapshot().context.sessions.a!.ref.send({
        type: 'APPEND',
        message: { id: 'm', role: 'user', content: 'x', timestamp: 't', tokens: 1 },
        reply: () => {
          throw new Error('boom');
        },
      });
    crash();
    await tick();
    const second = supervisor.getSnapshot().context.sessions.a?.ref;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(first.getSnapshot().status).toBe('error');
    await waitFor(second!, (s) => s.matches('ready'));
    expect(loads).toEqual(['a', 'a']);
    expect(supervisor.getSnapshot().context.restarts.a).toBe(1);
    crash();
    await tick();
    // Past maxRestarts it stays stopped; the next use opens it afresh.
    expect(supervisor.getSnapshot().context.sessions.a).toBeUndefined();
    supervisor.send({ type: 'SESSION.OPEN', sessionId: 'a', input: input('a') });
    await tick();
    expect(loads).toEqual(['a', 'a', 'a']);
  });

  it('STOP_ALL closes every session and ends the supervisor', async () => {
    const { supervisor, closes, tick } = setup();
    for (const id of ['a', 'b', 'c'])
      supervisor.send({ type: 'SESSION.OPEN', sessionId: id, input: input(id) });
    await tick();
    supervisor.send({ type: 'STOP_ALL' });
    await waitFor(supervisor, (s) => s.status === 'done');
    expect(closes.sort()).toEqual(['a', 'b', 'c']);
  });
});
