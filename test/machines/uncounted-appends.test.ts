/**
 * Appends acknowledged before their exact count: the chart counts them by their upper bound, and a
 * compaction that the bound alone would start waits for the exact counts (`COUNTED`), so that no
 * decision rests on a bound.
 */
import { SimulatedClock, createActor, fromPromise, waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  createWriter,
  sessionMachine,
  type AppendReply,
  type CompactInput,
  type PersistInput,
  type SummariseOutput,
} from '../../machines/session.machine.js';
import { LIMITS, EMPTY_LOAD } from './session-harness.js';

/** `counts`: what the fake write reports as counted meanwhile (asked of `exactOf`, as the runtime's). */
function start(counts = false) {
  const persisted: PersistInput[] = [];
  const summarised: number[] = [];
  const inputs: CompactInput[] = [];
  const machine = sessionMachine.provide({
    actors: {
      load: fromPromise(async () => ({ ...EMPTY_LOAD })),
      persist: createWriter(async (input) => {
        persisted.push(input);
        if (!counts) return undefined;
        const counted = (input.uncounted ?? []).map((seq) => ({ seq, tokens: input.exactOf?.(seq) }));
        return {
          counted: counted.filter((c): c is { seq: number; tokens: number } => c.tokens !== undefined),
        };
      }),
      // Never ends: the test only looks at whether it started.
      summarise: fromPromise<SummariseOutput, CompactInput>(async ({ input }) => {
        summarised.push(input.watermarkSeq);
        inputs.push(input);
        return new Promise<SummariseOutput>(() => undefined);
      }),
    },
  });
  const actor = createActor(machine, {
    clock: new SimulatedClock(),
    input: { sessionId: 's1', limits: LIMITS },
  });
  actor.start();
  const append = (tokens: number, uncounted: boolean, exact?: number) =>
    new Promise<AppendReply>((reply) =>
      actor.send({
        type: 'APPEND',
        message: { id: `m${tokens}`, role: 'user', content: 'x', timestamp: 't', tokens },
        reply,
        uncounted,
        ...(exact === undefined ? {} : { exact: () => exact }),
      }),
    );
  return { actor, persisted, summarised, inputs, append };
}

describe('appends acknowledged before their exact count', () => {
  it('are persisted as uncounted and counted by their bound until COUNTED brings the exact count', async () => {
    const s = start();
    expect((await s.append(300, true)).ok).toBe(true);
    expect(s.persisted[0]!.uncounted).toEqual([0]);
    expect(s.actor.getSnapshot().context).toMatchObject({ liveTokens: 300, uncounted: 1 });
    s.actor.send({ type: 'COUNTED', delta: -250, count: 1 });
    expect(s.actor.getSnapshot().context).toMatchObject({ liveTokens: 50, uncounted: 0 });
  });

  it('start no compaction on their bound: it waits for the exact counts, and starts if they pass too', async () => {
    const threshold = LIMITS.maxTokens * LIMITS.compactAt - LIMITS.replyReserveTokens;
    // Over the threshold by the bound, under it by the exact count: no compaction.
    const s = start();
    await s.append(Math.ceil(threshold) + 100, true);
    await waitFor(s.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    expect(s.actor.getSnapshot().matches({ ready: { compaction: 'idle' } })).toBe(true);
    expect(s.summarised).toEqual([]);
    s.actor.send({ type: 'COUNTED', delta: -Math.ceil(threshold), count: 1 });
    expect(s.actor.getSnapshot().matches({ ready: { compaction: 'idle' } })).toBe(true);
    expect(s.summarised).toEqual([]);

    // Over by the bound and by the exact count: it starts once the count is in.
    const t = start();
    await t.append(Math.ceil(threshold) + 500, true);
    await waitFor(t.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    expect(t.summarised).toEqual([]);
    t.actor.send({ type: 'COUNTED', delta: -100, count: 1 });
    await waitFor(t.actor, (snap) => snap.matches({ ready: { compaction: 'compacting' } }));
    expect(t.summarised).toEqual([0]);

    // Counted appends decide at once, as before.
    const u = start();
    await u.append(Math.ceil(threshold) + 500, false);
    await waitFor(u.actor, (snap) => snap.matches({ ready: { compaction: 'compacting' } }));
    expect(u.summarised).toEqual([0]);
  });

  it('take the exact count with the write when counted meanwhile: no bound in the figures, no COUNTED', async () => {
    const s = start(true);
    const reply = await s.append(300, true, 42);
    expect(s.persisted[0]!.exactOf?.(0)).toBe(42);
    expect(reply).toMatchObject({ ok: true, message: { seq: 0, tokens: 42 } });
    expect(s.actor.getSnapshot().context).toMatchObject({ liveTokens: 42, uncounted: 0 });

    // Over the threshold by the bound only: counted with the write, the chart decides on the count.
    const threshold = LIMITS.maxTokens * LIMITS.compactAt - LIMITS.replyReserveTokens;
    const t = start(true);
    await t.append(Math.ceil(threshold) + 100, true, 10);
    await waitFor(t.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    expect(t.actor.getSnapshot().context).toMatchObject({ liveTokens: 10, uncounted: 0 });
    expect(t.actor.getSnapshot().matches({ ready: { compaction: 'idle' } })).toBe(true);

    // A count not known when the write ends: the bound stays, and COUNTED brings the count later.
    const u = start(true);
    await u.append(300, true);
    expect(u.actor.getSnapshot().context).toMatchObject({ liveTokens: 300, uncounted: 1 });
  });

  it('decide late from the first message persisted uncounted: the compaction is told where', async () => {
    const threshold = LIMITS.maxTokens * LIMITS.compactAt - LIMITS.replyReserveTokens;
    // Counted, then two uncounted: the decision waits, and later starts from seq 1.
    const s = start();
    await s.append(100, false);
    await s.append(Math.ceil(threshold), true);
    await s.append(200, true);
    await waitFor(s.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    expect(s.actor.getSnapshot().context).toMatchObject({ undecidedFrom: 1, uncounted: 2 });
    s.actor.send({ type: 'COUNTED', delta: -50, count: 2 });
    await waitFor(s.actor, (snap) => snap.matches({ ready: { compaction: 'compacting' } }));
    expect(s.inputs[0]).toMatchObject({ trigger: 'threshold', watermarkSeq: 2, decideFrom: 1 });
    expect(s.actor.getSnapshot().context.undecidedFrom).toBeNull();

    // All counts in and nothing due: the late decision was "not yet", and is forgotten.
    const t = start();
    await t.append(Math.ceil(threshold) + 100, true);
    await waitFor(t.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    t.actor.send({ type: 'COUNTED', delta: -Math.ceil(threshold), count: 1 });
    expect(t.actor.getSnapshot().context.undecidedFrom).toBeNull();
    // The next decision is taken at once: its compaction folds up to its watermark.
    await t.append(Math.ceil(threshold) + 500, false);
    await waitFor(t.actor, (snap) => snap.matches({ ready: { compaction: 'compacting' } }));
    expect(t.inputs[0]).toMatchObject({ trigger: 'threshold', watermarkSeq: 1 });
    expect(t.inputs[0]!.decideFrom).toBeUndefined();

    // A manual compaction folds up to its watermark, whatever was undecided.
    const u = start();
    await u.append(300, true);
    await waitFor(u.actor, (snap) => snap.matches({ ready: { writer: 'idle' } }));
    u.actor.send({ type: 'COMPACT' });
    await waitFor(u.actor, (snap) => snap.matches({ ready: { compaction: 'compacting' } }));
    expect(u.inputs[0]).toMatchObject({ trigger: 'manual', watermarkSeq: 0 });
    expect(u.inputs[0]!.decideFrom).toBeUndefined();
  });
});
