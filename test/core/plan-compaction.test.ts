import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import {
  isValidCut,
  planCompaction,
  toolResultIds,
  toolUseIds,
  validCuts,
  type CompactionPlan,
  type PlannableMessage,
} from '../../src/core/plan-compaction.js';
import type { ContentBlock } from '../../src/core/types.js';

// ---- builders -------------------------------------------------------------------------------

const text = (tokens: number): PlannableMessage => ({ content: `t${tokens}`, tokens });
const call = (tokens: number, ...ids: string[]): PlannableMessage => ({
  content: ids.map((id): ContentBlock => ({ type: 'tool_use', id, name: 'Read', input: {} })),
  tokens,
});
const result = (tokens: number, ...ids: string[]): PlannableMessage => ({
  content: ids.map((id): ContentBlock => ({ type: 'tool_result', tool_use_id: id, content: 'ok' })),
  tokens,
});

// ---- generator: random conversations with tool pairs ----------------------------------------

type Segment =
  | { kind: 'text'; tokens: number }
  /** One call answered `gap` text messages later. */
  | { kind: 'pair'; tokens: [number, number]; gap: number[] }
  /** N calls then N results, each either one message per block or all blocks in one message. */
  | { kind: 'parallel'; calls: number[]; results: number[]; batchedCalls: boolean; batchedResults: boolean }
  /** A call never answered, followed by more messages (or not, when it ends the conversation). */
  | { kind: 'abandoned'; tokens: number };

const tokens = fc.integer({ min: 0, max: 400 });
const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), tokens }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pair' as const),
      tokens: fc.tuple(tokens, tokens),
      gap: fc.array(tokens, { maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 4 }).chain((count) =>
      fc.record({
        kind: fc.constant('parallel' as const),
        calls: fc.array(tokens, { minLength: count, maxLength: count }),
        results: fc.array(tokens, { minLength: count, maxLength: count }),
        batchedCalls: fc.boolean(),
        batchedResults: fc.boolean(),
      }),
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abandoned' as const), tokens }) },
);

/** Builds messages from segments, optionally ending with calls still awaiting their results. */
function build(segments: Segment[], pendingAtEnd: number[]): PlannableMessage[] {
  let next = 0;
  const id = (): string => `toolu_${next++}`;
  const out: PlannableMessage[] = [];
  for (const s of segments) {
    switch (s.kind) {
      case 'text':
        out.push(text(s.tokens));
        break;
      case 'pair': {
        const i = id();
        out.push(call(s.tokens[0], i), ...s.gap.map(text), result(s.tokens[1], i));
        break;
      }
      case 'parallel': {
        const ids = s.calls.map(() => id());
        if (s.batchedCalls)
          out.push(
            call(
              s.calls.reduce((a, b) => a + b, 0),
              ...ids,
            ),
          );
        else ids.forEach((i, k) => out.push(call(s.calls[k] ?? 0, i)));
        if (s.batchedResults)
          out.push(
            result(
              s.results.reduce((a, b) => a + b, 0),
              ...ids,
            ),
          );
        else ids.forEach((i, k) => out.push(result(s.results[k] ?? 0, i)));
        break;
      }
      case 'abandoned':
        out.push(call(s.tokens, id()));
        break;
    }
  }
  for (const t of pendingAtEnd) out.push(call(t, id()));
  return out;
}

const conversation = (maxSegments: number): fc.Arbitrary<PlannableMessage[]> =>
  fc
    .tuple(fc.array(segment, { maxLength: maxSegments }), fc.array(tokens, { maxLength: 3 }))
    .map(([segments, pending]) => build(segments, pending));
const budget = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 }));

// ---- brute-force O(n²) reference, written from the rules, not from the implementation -----

function referenceValid(messages: readonly PlannableMessage[], i: number): boolean {
  if (i === 0) return true;
  const answered = new Set(messages.flatMap(toolResultIds));
  const called = new Set(messages.flatMap(toolUseIds));
  const side = (from: number, to: number, ids: (m: PlannableMessage) => string[]): Set<string> =>
    new Set(messages.slice(from, to).flatMap(ids));
  const prefix = new Set([...side(0, i, toolUseIds), ...side(0, i, toolResultIds)]);
  const suffix = new Set([
    ...side(i, messages.length, toolUseIds),
    ...side(i, messages.length, toolResultIds),
  ]);
  // (a) an id that is a real pair must not appear on both sides
  for (const id of prefix) if (suffix.has(id) && called.has(id) && answered.has(id)) return false;
  // (b) the message just before the cut must not hold a call still awaiting its result
  const last = messages[i - 1];
  if (last !== undefined && toolUseIds(last).some((id) => !answered.has(id))) return false;
  return true;
}

const sum = (messages: readonly PlannableMessage[]): number => messages.reduce((a, m) => a + m.tokens, 0);

function referencePlan(
  messages: readonly PlannableMessage[],
  keepRecentTokens: number,
): { kind: CompactionPlan['kind']; upTo?: number } {
  const n = messages.length;
  if (sum(messages) <= keepRecentTokens) return { kind: 'within-budget' };
  const valid: number[] = [];
  for (let i = 1; i <= n; i++) if (referenceValid(messages, i)) valid.push(i);
  const fitting = valid.find((i) => sum(messages.slice(i)) <= keepRecentTokens);
  if (fitting !== undefined) return { kind: 'compact', upTo: fitting };
  const largest = valid.at(-1);
  return largest === undefined ? { kind: 'no-cut' } : { kind: 'compact', upTo: largest };
}

const foldedCount = (plan: CompactionPlan): number => (plan.kind === 'compact' ? plan.upTo : 0);

// ---- unit cases -----------------------------------------------------------------------------

describe('toolUseIds / toolResultIds', () => {
  it('reads ids from blocks and nothing from string content', () => {
    expect(toolUseIds(call(1, 'a', 'b'))).toEqual(['a', 'b']);
    expect(toolResultIds(result(1, 'a'))).toEqual(['a']);
    expect(toolUseIds(text(1))).toEqual([]);
    expect(toolResultIds(call(1, 'a'))).toEqual([]);
  });
});

describe('planCompaction', () => {
  it('is within budget for no messages and for messages that all fit', () => {
    expect(planCompaction([], { keepRecentTokens: 0 }).kind).toBe('within-budget');
    expect(planCompaction([text(10), text(20)], { keepRecentTokens: 30 }).kind).toBe('within-budget');
  });

  it('keeps as much as fits: the smallest fitting cut', () => {
    const plan = planCompaction([text(10), text(10), text(10), text(10)], { keepRecentTokens: 25 });
    expect(plan).toMatchObject({ kind: 'compact', upTo: 2, keep: 2, foldedTokens: 20, keptTokens: 20 });
  });

  it('folds at least one message even when dropping the first is enough', () => {
    expect(planCompaction([text(50), text(10)], { keepRecentTokens: 10 })).toMatchObject({
      upTo: 1,
      keep: 1,
    });
  });

  it('moves the cut later rather than separate a call from its result', () => {
    const messages = [text(10), call(10, 'a'), result(10, 'a'), text(10)];
    // cut 2 would fit (20 tokens) but separates a; cut 3 is next
    const plan = planCompaction(messages, { keepRecentTokens: 20 });
    expect(plan).toMatchObject({ kind: 'compact', upTo: 3, keep: 1, keptTokens: 10 });
    expect(plan.reason).toMatch(/tool calls/);
  });

  it('keeps parallel calls with all their results', () => {
    const messages = [text(5), call(5, 'a'), call(5, 'b'), result(5, 'a'), result(5, 'b'), text(5)];
    expect(validCuts(messages)).toEqual([true, true, false, false, false, true, true]);
    expect(planCompaction(messages, { keepRecentTokens: 20 })).toMatchObject({ upTo: 5 });
  });

  it('never folds a call still awaiting its result at the end', () => {
    const messages = [text(10), text(10), call(100, 'pending')];
    const plan = planCompaction(messages, { keepRecentTokens: 50 });
    // the only fitting cut (3) would fold the pending call; fall back to the largest valid cut
    expect(plan).toMatchObject({ kind: 'compact', upTo: 2, keep: 1, keptTokens: 100 });
    expect(plan.reason).toMatch(/over the 50-token budget/);
  });

  it('protects every call of a pending parallel batch', () => {
    const messages = [text(10), call(10, 'a'), call(10, 'b')];
    expect(validCuts(messages)).toEqual([true, true, false, false]);
  });

  it('folds an abandoned call together with what follows it', () => {
    const messages = [call(10, 'lost'), text(10), text(10)];
    expect(isValidCut(messages, 1)).toBe(false);
    expect(isValidCut(messages, 2)).toBe(true);
    expect(planCompaction(messages, { keepRecentTokens: 10 })).toMatchObject({ upTo: 2 });
  });

  it('folds everything that can be folded with a zero budget', () => {
    expect(planCompaction([text(1), call(1, 'a'), result(1, 'a')], { keepRecentTokens: 0 })).toMatchObject({
      upTo: 3,
      keep: 0,
      keptTokens: 0,
    });
  });

  it('reports no-cut when every cut is invalid', () => {
    expect(planCompaction([call(10, 'a')], { keepRecentTokens: 0 }).kind).toBe('no-cut');
    expect(
      planCompaction([call(10, 'a'), result(10, 'a'), call(5, 'b')], { keepRecentTokens: 0 }),
    ).toMatchObject({ upTo: 2 });
  });

  it('ignores results without a call and calls answered in the same message', () => {
    expect(validCuts([result(1, 'x'), text(1)])).toEqual([true, true, true]);
    const both: PlannableMessage = {
      content: [
        { type: 'tool_use', id: 'a', name: 'n', input: {} },
        { type: 'tool_result', tool_use_id: 'a', content: '' },
      ],
      tokens: 1,
    };
    expect(validCuts([both, text(1)])).toEqual([true, true, true]);
  });

  it('isValidCut rejects out-of-range cuts', () => {
    expect(isValidCut([text(1)], -1)).toBe(false);
    expect(isValidCut([text(1)], 2)).toBe(false);
    expect(isValidCut([text(1)], 0.5)).toBe(false);
  });

  it('throws INVALID_ARGUMENT for a bad budget or bad token counts', () => {
    const expectInvalid = (fn: () => unknown): void => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(isSessionError(e, 'INVALID_ARGUMENT')).toBe(true);
      }
    };
    expectInvalid(() => planCompaction([text(1)], { keepRecentTokens: -1 }));
    expectInvalid(() => planCompaction([text(1)], { keepRecentTokens: Number.NaN }));
    expectInvalid(() => planCompaction([{ content: 'x', tokens: Number.NaN }], { keepRecentTokens: 0 }));
    expectInvalid(() => planCompaction([{ content: 'x', tokens: -3 }], { keepRecentTokens: 0 }));
  });

  it('plans 50,000 messages in linear time (an O(n²) planner would time out)', () => {
    const messages: PlannableMessage[] = [];
    for (let i = 0; i < 10_000; i++)
      messages.push(text(10), call(20, `c${i}`), call(20, `d${i}`), result(30, `c${i}`), result(30, `d${i}`));
    const plan = planCompaction(messages, { keepRecentTokens: 20_000 });
    expect(plan.kind).toBe('compact');
    if (plan.kind === 'compact') {
      expect(plan.keptTokens).toBeLessThanOrEqual(20_000);
      expect(plan.upTo % 5).toBe(0);
    }
  });
});

// ---- properties -----------------------------------------------------------------------------

describe('planCompaction properties', () => {
  it('the kept tail fits its budget whenever a fitting valid cut exists', () => {
    fc.assert(
      fc.property(conversation(30), budget, (messages, keepRecentTokens) => {
        const plan = planCompaction(messages, { keepRecentTokens });
        let fittingExists = false;
        for (let i = 1; i <= messages.length; i++) {
          if (referenceValid(messages, i) && sum(messages.slice(i)) <= keepRecentTokens) fittingExists = true;
        }
        if (plan.kind === 'compact' && fittingExists)
          expect(plan.keptTokens).toBeLessThanOrEqual(keepRecentTokens);
        if (plan.kind === 'within-budget') expect(sum(messages)).toBeLessThanOrEqual(keepRecentTokens);
      }),
      { numRuns: 500 },
    );
  });

  it('no tool_use is separated from its tool_result', () => {
    fc.assert(
      fc.property(conversation(30), budget, (messages, keepRecentTokens) => {
        const plan = planCompaction(messages, { keepRecentTokens });
        if (plan.kind !== 'compact') return;
        const folded = messages.slice(0, plan.upTo);
        const kept = messages.slice(plan.upTo);
        const keptResults = new Set(kept.flatMap(toolResultIds));
        const keptUses = new Set(kept.flatMap(toolUseIds));
        for (const id of folded.flatMap(toolUseIds)) expect(keptResults.has(id)).toBe(false);
        for (const id of folded.flatMap(toolResultIds)) expect(keptUses.has(id)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('calls still awaiting their results at the end stay in the kept tail', () => {
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 20 }),
        fc.array(tokens, { minLength: 1, maxLength: 3 }),
        budget,
        (segments, pending, keepRecentTokens) => {
          const messages = build(segments, pending);
          const plan = planCompaction(messages, { keepRecentTokens });
          if (plan.kind === 'compact')
            expect(plan.upTo).toBeLessThanOrEqual(messages.length - pending.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('folded + kept = all messages, in order, and the token counts add up', () => {
    fc.assert(
      fc.property(conversation(30), budget, (messages, keepRecentTokens) => {
        const plan = planCompaction(messages, { keepRecentTokens });
        if (plan.kind !== 'compact') return;
        expect(plan.upTo).toBeGreaterThanOrEqual(1);
        expect(plan.upTo + plan.keep).toBe(messages.length);
        const folded = messages.slice(0, plan.upTo);
        const kept = messages.slice(plan.upTo);
        expect([...folded, ...kept]).toEqual(messages);
        expect(plan.foldedTokens).toBe(sum(folded));
        expect(plan.keptTokens).toBe(sum(kept));
      }),
      { numRuns: 300 },
    );
  });

  it('the plan is the smallest valid fitting cut (brute-force reference)', () => {
    fc.assert(
      fc.property(conversation(15), budget, (messages, keepRecentTokens) => {
        const plan = planCompaction(messages, { keepRecentTokens });
        const expected = referencePlan(messages, keepRecentTokens);
        expect(plan.kind).toBe(expected.kind);
        if (plan.kind === 'compact') expect(plan.upTo).toBe(expected.upTo);
        for (let i = 0; i <= messages.length; i++)
          expect(validCuts(messages)[i]).toBe(referenceValid(messages, i));
      }),
      { numRuns: 1000 },
    );
  });

  it('a larger budget never folds more', () => {
    fc.assert(
      fc.property(conversation(30), budget, fc.integer({ min: 0, max: 2000 }), (messages, small, extra) => {
        const tight = planCompaction(messages, { keepRecentTokens: small });
        const loose = planCompaction(messages, { keepRecentTokens: small + extra });
        expect(foldedCount(loose)).toBeLessThanOrEqual(foldedCount(tight));
      }),
      { numRuns: 500 },
    );
  });
});
