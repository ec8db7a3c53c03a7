/**
 * Model-based test: random command sequences against the session actor (fake effects, simulated
 * clock) and a plain-array model of what was acknowledged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { machineStateOf } from '../../machines/session.machine.js';
import { createHarness, type CompactMode, type Harness } from './session-harness.js';

interface Model {
  acknowledged: number[];
  watermark: number;
}

function checkInvariants(h: Harness, model: Model): void {
  const c = h.actor.getSnapshot().context;
  // Every acknowledged message appears exactly once in archive + live, in order.
  expect([...h.disk.archive, ...h.disk.live].map((m) => m.seq)).toEqual(model.acknowledged);
  // The watermark never moves back.
  expect(c.archivedThroughSeq).toBeGreaterThanOrEqual(model.watermark);
  model.watermark = c.archivedThroughSeq;
  // The actor's figures agree with the disk.
  expect(c.liveCount).toBe(h.disk.live.length);
  expect(c.liveTokens).toBe(h.disk.live.reduce((s, m) => s + m.tokens, 0));
  expect(machineStateOf(h.actor.getSnapshot())).not.toBe('closed');
}

class Append implements fc.AsyncCommand<Model, Harness> {
  constructor(
    readonly tokens: number,
    readonly burst: number,
  ) {}
  check = () => true;
  async run(model: Model, h: Harness) {
    const replies = await Promise.all(Array.from({ length: this.burst }, () => h.append(this.tokens)));
    for (const r of replies) {
      expect(r.ok).toBe(true);
      if (r.ok) model.acknowledged.push(r.message.seq);
    }
    await h.flush();
    checkInvariants(h, model);
  }
  toString = () => `append(${this.tokens} x${this.burst})`;
}

class Compact implements fc.AsyncCommand<Model, Harness> {
  constructor(readonly keep: number | undefined) {}
  check = () => true;
  async run(model: Model, h: Harness) {
    const reply = h.compact(this.keep);
    await h.flush();
    // A failing compactor answers with an error and changes nothing; either way the caller hears.
    await Promise.race([
      reply,
      h
        .flush()
        .then(() => h.clock.increment(10_000))
        .then(() => reply),
    ]);
    await h.flush();
    checkInvariants(h, model);
  }
  toString = () => `compact(${String(this.keep)})`;
}

class SetMode implements fc.AsyncCommand<Model, Harness> {
  constructor(readonly mode: CompactMode) {}
  check = () => true;
  async run(model: Model, h: Harness) {
    h.setCompactMode(this.mode);
    checkInvariants(h, model);
  }
  toString = () => `mode(${this.mode})`;
}

class Tick implements fc.AsyncCommand<Model, Harness> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, h: Harness) {
    h.clock.increment(this.ms);
    await h.flush();
    checkInvariants(h, model);
  }
  toString = () => `tick(${this.ms})`;
}

describe('session machine against a plain model', () => {
  it('keeps every acknowledged message exactly once, in order, whatever the sequence', async () => {
    const totals = { appended: 0, compactions: 0 };
    const commands = [
      fc
        .tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 4 }))
        .map(([t, b]) => new Append(t, b)),
      fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }).map((k) => new Compact(k)),
      fc.constantFrom<CompactMode>('ok', 'fail', 'no-progress').map((m) => new SetMode(m)),
      fc.integer({ min: 1, max: 20_000 }).map((ms) => new Tick(ms)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
        const h = createHarness();
        await h.flush();
        const model: Model = { acknowledged: [], watermark: -1 };
        await fc.asyncModelRun(() => ({ model, real: h }), cmds);
        totals.appended += model.acknowledged.length;
        totals.compactions += h.calls.compact.length;
        h.setCompactMode('ok');
        h.actor.stop();
      }),
      { numRuns: 60 },
    );
    // The generated runs did exercise appends and compactions, not only empty sequences.
    expect(totals.appended).toBeGreaterThan(100);
    expect(totals.compactions).toBeGreaterThan(10);
  });
});
