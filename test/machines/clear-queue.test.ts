/**
 * Clears, resets and edits queue one behind the other in the session chart: a request that
 * arrives while one runs is its own run (its own watermark, its own changes), never answered with
 * the result of the one already running; requests queued together run as one, in order.
 */
import { SimulatedClock, createActor, fromPromise, waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  createWriter,
  sessionMachine,
  type AppendReply,
  type ClearInput,
  type ClearOutput,
  type ClearReply,
} from '../../machines/session.machine.js';
import type { CheckpointChange } from '../../src/core/checkpoint-change.js';
import { LIMITS, EMPTY_LOAD } from './session-harness.js';

function start() {
  const clears: ClearInput[] = [];
  const signals: AbortSignal[] = [];
  const gates: Array<() => void> = [];
  let version = 0;
  const machine = sessionMachine.provide({
    actors: {
      load: fromPromise(async () => ({ ...EMPTY_LOAD })),
      persist: createWriter(async () => undefined),
      clear: fromPromise<ClearOutput, ClearInput>(async ({ input, signal }) => {
        clears.push(input);
        signals.push(signal);
        await new Promise<void>((resolve) => gates.push(resolve));
        return {
          mode: input.mode,
          archivedMessages: input.mode === 'edit' ? 0 : 1,
          foldedTokens: 0,
          segment: null,
          checkpointVersion: ++version,
          checkpointTokens: 0,
          archivedThroughSeq: input.mode === 'edit' ? -1 : input.watermarkSeq,
        };
      }),
    },
  });
  const actor = createActor(machine, {
    clock: new SimulatedClock(),
    input: { sessionId: 's1', limits: LIMITS },
  });
  actor.start();
  const append = (text: string) =>
    new Promise<AppendReply>((reply) =>
      actor.send({
        type: 'APPEND',
        message: { id: text, role: 'user', content: text, timestamp: 't', tokens: 1 },
        reply,
      }),
    );
  const clear = (mode: ClearInput['mode'], change?: CheckpointChange) =>
    new Promise<ClearReply>((reply) =>
      actor.send({ type: 'CLEAR', mode, ...(change ? { change } : {}), reply }),
    );
  const running = () => waitFor(actor, (s) => s.matches({ ready: { compaction: 'clearing' } }));
  return { actor, clears, signals, gates, append, clear, running };
}

describe('clears, resets and edits in the session chart', () => {
  it('runs a request that arrives during a clear after it, with its own watermark and changes', async () => {
    const s = start();
    await s.append('a');
    const first = s.clear('clear');
    await s.running();
    await s.append('b'); // appended while the first clear runs: after its watermark
    const edit: CheckpointChange = { edit: { summary: { pending: ['ship'] } } };
    const second = s.clear('clear', edit);
    s.gates.shift()!();
    const firstReply = await first;
    expect(firstReply).toMatchObject({ ok: true, result: { checkpointVersion: 1, archivedThroughSeq: 0 } });
    await waitFor(s.actor, () => s.clears.length === 2);
    expect(s.clears[1]).toMatchObject({ mode: 'clear', watermarkSeq: 1, changes: [edit] });
    s.gates.shift()!();
    expect(await second).toMatchObject({ ok: true, result: { checkpointVersion: 2, archivedThroughSeq: 1 } });
    expect(s.clears).toHaveLength(2);
    expect(s.clears[0]!.changes).toEqual([]);
  });

  it('is one commit, never cancelled: a close asked for during a clear waits for it to finish', async () => {
    const s = start();
    await s.append('a');
    const cleared = s.clear('clear');
    await s.running();
    s.actor.send({ type: 'CLOSE' });
    await s.append('b').catch(() => undefined);
    expect(s.actor.getSnapshot().matches({ ready: { compaction: 'clearing' } })).toBe(true);
    expect(s.signals[0]!.aborted).toBe(false);
    s.gates.shift()!();
    expect(await cleared).toMatchObject({ ok: true, result: { archivedThroughSeq: 0 } });
    expect(s.signals[0]!.aborted).toBe(false);
    await waitFor(s.actor, (snapshot) => snapshot.status === 'done');
  });

  it('runs requests queued together as one: a reset wins, a clear over an edit, changes in order', async () => {
    const s = start();
    const blocker = s.clear('edit', { decisions: [{ kind: 'decision', subject: 'db', text: 'SQLite' }] });
    await s.running();
    const a: CheckpointChange = { edit: { summary: { pending: ['a'] } } };
    const b: CheckpointChange = { iteration: { iteration: 1 } };
    const queued = [s.clear('edit', a), s.clear('clear', b)];
    s.gates.shift()!();
    await blocker;
    await waitFor(s.actor, () => s.clears.length === 2);
    expect(s.clears[1]).toMatchObject({ mode: 'clear', changes: [a, b] });
    s.gates.shift()!();
    const replies = await Promise.all(queued);
    expect(replies.map((r) => r.ok && r.result.checkpointVersion)).toEqual([2, 2]);

    // A reset empties the checkpoint: changes queued before it are dropped, those after it kept.
    const hold = s.clear('edit', a);
    await s.running();
    const c: CheckpointChange = { edit: { summary: { pending: ['c'] } } };
    const together = [s.clear('edit', a), s.clear('reset'), s.clear('edit', c)];
    s.gates.shift()!();
    await hold;
    await waitFor(s.actor, () => s.clears.length === 4);
    expect(s.clears[3]).toMatchObject({ mode: 'reset', changes: [c] });
    s.gates.shift()!();
    expect((await Promise.all(together)).every((r) => r.ok)).toBe(true);
  });
});
