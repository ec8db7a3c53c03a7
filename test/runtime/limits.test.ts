/**
 * Limits: the defaults, the tail that follows targetAfterCompaction unless it is given, and the
 * checks that refuse limits that cannot work.
 */
import { describe, expect, it } from 'vitest';
import { defaultLimits, resolveLimits, tailFor } from '../../src/runtime/limits.js';

describe('limits', () => {
  it(
    'defaults: compaction at 90%, half the window after it, ' +
      'a checkpoint of 25%, the tail that reaches the target',
    () => {
      expect(defaultLimits(20_000)).toEqual({
        maxTokens: 20_000,
        compactAt: 0.9,
        targetAfterCompaction: 0.5,
        checkpointTokens: 5_000,
        replyReserveTokens: 1_000,
        keepRecentTokens: 4_000,
      });
      expect(defaultLimits(50_000).keepRecentTokens).toBe(10_000);
      // The reply reserve stops at 4,096 tokens: larger windows keep a little more verbatim.
      expect(defaultLimits(100_000)).toMatchObject({ replyReserveTokens: 4_096, keepRecentTokens: 20_904 });
    },
  );

  it(
    'derives the tail again when the target, the checkpoint ' +
      'budget or the reply reserve changes, unless the tail is given',
    () => {
      expect(resolveLimits({ maxTokens: 20_000, targetAfterCompaction: 0.7 }).keepRecentTokens).toBe(8_000);
      expect(resolveLimits({ maxTokens: 20_000, checkpointTokens: 2_000 }).keepRecentTokens).toBe(7_000);
      expect(
        resolveLimits({ maxTokens: 20_000, targetAfterCompaction: 0.7, keepRecentTokens: 1_234 })
          .keepRecentTokens,
      ).toBe(1_234);
      const base = resolveLimits({ maxTokens: 20_000, keepRecentTokens: 3_000 });
      expect(resolveLimits({ compactAt: 0.8 }, base).keepRecentTokens).toBe(3_000); // nothing it depends on changed
      expect(
        tailFor({
          maxTokens: 20_000,
          targetAfterCompaction: 0.2,
          checkpointTokens: 5_000,
          replyReserveTokens: 1_000,
        }),
      ).toBe(0);
    },
  );

  it('keeps the default target below an early compaction threshold, in proportion', () => {
    const early = resolveLimits({ maxTokens: 20_000, compactAt: 0.5 });
    expect(early.targetAfterCompaction).toBe(0.27);
    expect(early.keepRecentTokens).toBe(0);
    expect(early.keepRecentTokens + early.checkpointTokens + early.replyReserveTokens).toBeLessThan(10_000);
  });

  it('refuses a target that is not below the compaction threshold, naming both', () => {
    for (const targetAfterCompaction of [0, 0.9, 1.2, Number.NaN]) {
      expect(() => resolveLimits({ maxTokens: 20_000, targetAfterCompaction })).toThrow(
        'targetAfterCompaction is the share of maxTokens a request has right after a compaction, ' +
          '0 < targetAfterCompaction < compactAt (0.9)',
      );
    }
  });
});
