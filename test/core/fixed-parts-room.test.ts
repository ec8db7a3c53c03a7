/**
 * The rule for a session's fixed parts (src/core/fixed-parts-room.ts): named invariants over
 * generated limits and counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fixedPartsOverflow,
  fixedPartsRoom,
  noCompactionCanHelp,
  thresholdOutOfReach,
  thresholdOutOfReachReason,
} from '../../src/core/fixed-parts-room.js';
import { emptyCheckpoint } from '../../src/core/empty-checkpoint.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { requestTokens } from '../../src/core/request-size.js';
import { readFile } from 'node:fs/promises';
import { resolveAgentProfiles } from '../../src/runtime/agent-profiles.js';
import { resolveLimits } from '../../src/runtime/limits.js';

const limitsArb = fc
  .record({
    maxTokens: fc.integer({ min: 1_000, max: 1_000_000 }),
    compactAt: fc.double({ min: 0.5, max: 1, noNaN: true }),
  })
  .map((given) => {
    try {
      return resolveLimits(given);
    } catch {
      return null; // limits a runtime refuses
    }
  })
  .filter((limits) => limits !== null);

describe('fixedPartsRoom and fixedPartsOverflow', () => {
  it('a 20,000-token window leaves 13,000 tokens: 18,000 - 1,000 for the reply - 4,000 of tail', () => {
    const limits = resolveLimits({ maxTokens: 20_000 });
    expect(fixedPartsRoom(limits)).toBe(13_000);
    expect(fixedPartsOverflow(12_999, 1, limits)).toBeNull();
    expect(fixedPartsOverflow(13_000, 1, limits)).toEqual({
      tokens: 13_000,
      room: 13_000,
      threshold: 18_000,
      maxTokens: 20_000,
      replyReserveTokens: 1_000,
      keepRecentTokens: 4_000,
    });
    // Corrected as requests are: 10,000 local tokens at 1.3 count 13,000.
    expect(fixedPartsOverflow(10_000, 1.3, limits)?.tokens).toBe(13_000);
  });

  it('fits exactly when the request they make with the reply room and the tail is under the threshold', () => {
    fc.assert(
      fc.property(
        limitsArb,
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (limits, tokens, correction) => {
          const threshold = Math.floor(limits.maxTokens * limits.compactAt);
          const fits =
            requestTokens(tokens, correction, limits.replyReserveTokens) + limits.keepRecentTokens <
            threshold;
          const overflow = fixedPartsOverflow(tokens, correction, limits);
          expect(overflow === null).toBe(fits);
          // The room is what the corrected tokens must stay below.
          expect(fits).toBe(Math.ceil(tokens * correction) < fixedPartsRoom(limits));
          if (overflow) expect(overflow.tokens).toBeGreaterThanOrEqual(overflow.room);
        },
      ),
    );
  });

  it('leaves room for more than a full checkpoint under any limits resolveLimits accepts', () => {
    fc.assert(
      fc.property(limitsArb, (limits) => {
        expect(fixedPartsRoom(limits)).toBeGreaterThan(limits.checkpointTokens);
      }),
    );
  });

  it('gives the figures README and docs/embedding.md state (65,000 and 55,000 of the default window)', async () => {
    const profiles = resolveAgentProfiles({});
    const figure = (n: number) => n.toLocaleString('en-US');
    const dev = figure(fixedPartsRoom(profiles.profile('dev')!.resolved));
    const pm = figure(fixedPartsRoom(profiles.profile('pm')!.resolved));
    const small = figure(fixedPartsRoom(resolveLimits({ maxTokens: 20_000 })));
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const embedding = await readFile(new URL('../../docs/embedding.md', import.meta.url), 'utf8');
    expect(readme.replace(/\s+/g, ' ')).toContain(`(${dev} of the default window; ${pm} for \`pm\`)`);
    expect(embedding.replace(/\s+/g, ' ')).toContain(
      `${pm} of the default 100,000-token window for \`pm\`, ${dev} for the others; ${small} of a 20,000 window`,
    );
  });
});

describe('noCompactionCanHelp', () => {
  it('is true exactly when the fixed parts with the reply room (and the extra) pass maxTokens', () => {
    const limits = resolveLimits({ maxTokens: 20_000 });
    expect(noCompactionCanHelp(19_000, 1, limits)).toBe(false); // 20,000: a request of them fits
    expect(noCompactionCanHelp(19_001, 1, limits)).toBe(true);
    expect(noCompactionCanHelp(15_000, 1.3, limits)).toBe(true); // 19,500 corrected
    expect(noCompactionCanHelp(18_000, 1, limits, 1_001)).toBe(true);
    fc.assert(
      fc.property(
        limitsArb,
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (limits, tokens, correction) => {
          const hopeless = noCompactionCanHelp(tokens, correction, limits);
          expect(hopeless).toBe(
            requestTokens(tokens, correction, limits.replyReserveTokens) > limits.maxTokens,
          );
          // Parts the fixed-parts rule accepts always leave compaction something to do.
          if (fixedPartsOverflow(tokens, correction, limits) === null) expect(hopeless).toBe(false);
        },
      ),
    );
  });
});

describe('thresholdOutOfReach', () => {
  it('is true exactly when the smallest request a compaction can leave reaches the threshold', () => {
    const limits = resolveLimits({ maxTokens: 20_000 });
    expect(thresholdOutOfReach(16_999, 1, limits)).toBe(false); // 17,999: under 18,000
    expect(thresholdOutOfReach(17_000, 1, limits)).toBe(true); // 18,000: at it, and fits 20,000
    expect(thresholdOutOfReach(13_600, 1.25, limits)).toBe(true); // 17,000 corrected + 1,000
    expect(thresholdOutOfReach(13_000, 1.25, limits, 749)).toBe(false); // 16,250 + 1,000 + 749
    expect(thresholdOutOfReach(13_000, 1.25, limits, 750)).toBe(true);
    // The smallest checkpoint renders as nothing: a compaction can leave no less than the parts.
    expect(createTokenEstimator().estimateCheckpoint(emptyCheckpoint('2026-01-01T00:00:00.000Z'))).toBe(0);
    fc.assert(
      fc.property(
        limitsArb,
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.integer({ min: 0, max: 5_000 }),
        (limits, tokens, correction, extra) => {
          const threshold = Math.floor(limits.maxTokens * limits.compactAt);
          // No checkpoint, no live message: the smallest request of the session.
          const smallest = requestTokens(tokens, correction, limits.replyReserveTokens) + extra;
          const outOfReach = thresholdOutOfReach(tokens, correction, limits, extra);
          expect(outOfReach).toBe(smallest >= threshold);
          // Past maxTokens is past the threshold; parts the rule accepts leave it in reach.
          if (noCompactionCanHelp(tokens, correction, limits, extra)) expect(outOfReach).toBe(true);
          if (fixedPartsOverflow(tokens, correction, limits) === null) {
            expect(thresholdOutOfReach(tokens, correction, limits)).toBe(false);
          }
        },
      ),
    );
  });

  it('says why no compaction was started, what still works, and what to do', () => {
    const limits = resolveLimits({ maxTokens: 20_000 });
    const reason = thresholdOutOfReachReason(17_500, limits, 200);
    expect(reason).toMatch(/^\(with the 200 tokens of this user message\) take 17500 tokens/);
    expect(reason).toContain("with the reply's room (1000) reach the compaction threshold 18000");
    expect(reason).toContain('still built while they fit maxTokens 20000');
    expect(reason).toContain('Shorten them (setContext, setAgentDescription)');
  });
});
