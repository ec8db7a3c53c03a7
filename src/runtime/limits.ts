/**
 * Token limits: defaults, validation, and resolution per runtime and per agent type.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { Limits } from '../core/types.js';

/** The model's context budget for one request when nothing else is said. */
export const DEFAULT_MAX_TOKENS = 100_000;
/** Default share of `maxTokens` a request has right after a compaction (see docs/compaction.md). */
export const DEFAULT_TARGET_AFTER_COMPACTION = 0.5;
/** Default share of `maxTokens` the checkpoint (ledger and summary) may use. */
export const DEFAULT_CHECKPOINT_SHARE = 0.25;

/**
 * Limits for a given `maxTokens`: compaction at 90%; right after a compaction the request is about
 * half the window ({@link DEFAULT_TARGET_AFTER_COMPACTION}): a checkpoint of at most 25% of it, the
 * room kept for the reply (4,096 tokens, 5% of small windows), and a verbatim tail of the rest (20%
 * of windows up to 80,000 tokens).
 *
 * @example
 * defaultLimits(20_000)
 * // { maxTokens: 20000, compactAt: 0.9, keepRecentTokens: 4000, replyReserveTokens: 1000,
 * //   checkpointTokens: 5000, targetAfterCompaction: 0.5 }
 */
export function defaultLimits(maxTokens = DEFAULT_MAX_TOKENS): Limits {
  const limits = {
    maxTokens,
    compactAt: 0.9,
    keepRecentTokens: 0,
    replyReserveTokens: Math.min(4_096, Math.floor(maxTokens * 0.05)),
    checkpointTokens: Math.floor(maxTokens * DEFAULT_CHECKPOINT_SHARE),
    targetAfterCompaction: DEFAULT_TARGET_AFTER_COMPACTION,
  };
  return { ...limits, keepRecentTokens: tailFor(limits) };
}

/**
 * The verbatim tail that brings a request to `targetAfterCompaction` of the window right after a
 * compaction, with a full checkpoint and the reply's room (the agent description and context come
 * on top): `floor(maxTokens * target) - checkpointTokens - replyReserveTokens`, at least 0.
 *
 * @param limits - the window, the target, the checkpoint budget and the reply reserve.
 * @returns the tail's token budget.
 * @example
 * tailFor({ maxTokens: 20_000, targetAfterCompaction: 0.6, checkpointTokens: 5_000, replyReserveTokens: 1_000 })
 * // 6000
 */
export function tailFor(
  limits: Pick<Limits, 'maxTokens' | 'checkpointTokens' | 'replyReserveTokens' | 'targetAfterCompaction'>,
): number {
  const target = limits.targetAfterCompaction ?? DEFAULT_TARGET_AFTER_COMPACTION;
  return Math.max(
    0,
    Math.floor(limits.maxTokens * target) - limits.checkpointTokens - limits.replyReserveTokens,
  );
}

/** Every figure of `Limits` (the compiler keeps this in step with the type). */
const LIMIT_NAMES = optionNames({
  maxTokens: true,
  compactAt: true,
  keepRecentTokens: true,
  replyReserveTokens: true,
  checkpointTokens: true,
  targetAfterCompaction: true,
} satisfies Record<keyof Limits, true>);

/**
 * Fills in a partial `Limits` over `base` (or over the defaults for its `maxTokens`) and checks
 * that the result can work. Unless `keepRecentTokens` is given, it follows the target: it is
 * derived again ({@link tailFor}) when the target, the checkpoint budget, the reply reserve or
 * the window changes.
 * @throws SessionError `INVALID_ARGUMENT` saying which figure is wrong and why, or naming a key that is
 *   no figure of `Limits` (one whose value is undefined is let be).
 * @example resolveLimits({ maxTokens: 20_000 }) // { maxTokens: 20000, compactAt: 0.9, keepRecentTokens: 4000, ... }
 */
export function resolveLimits(partial: Partial<Limits> | undefined, base?: Limits): Limits {
  if (partial !== undefined && (typeof partial !== 'object' || partial === null)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'limits must be an object like { maxTokens: 100000, compactAt: 0.9, keepRecentTokens: 20000 }',
    );
  }
  // A misspelt `maxTokns` would otherwise leave the session at the default window.
  if (partial !== undefined)
    checkOptionNames(
      partial,
      LIMIT_NAMES,
      (what) => new SessionError('INVALID_ARGUMENT', 'runtime', `limits: ${what}`),
    );
  const maxTokens = partial?.maxTokens ?? base?.maxTokens ?? DEFAULT_MAX_TOKENS;
  const derived =
    base && base.maxTokens === maxTokens ? base : defaultLimits(positiveInteger('maxTokens', maxTokens));
  const given = stripUndefined(partial ?? {});
  const limits: Limits = { ...derived, ...given };
  // The tail follows the target unless it is given: derived again when what it depends on changed.
  let reshaped =
    derived !== base ||
    given.targetAfterCompaction !== undefined ||
    given.checkpointTokens !== undefined ||
    given.replyReserveTokens !== undefined;
  positiveInteger('maxTokens', limits.maxTokens);
  if (!(typeof limits.compactAt === 'number' && limits.compactAt > 0 && limits.compactAt <= 1)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `limits.compactAt is a fraction of maxTokens, 0 < compactAt <= 1; got ${String(limits.compactAt)}`,
    );
  }
  if (
    given.targetAfterCompaction === undefined &&
    (limits.targetAfterCompaction ?? DEFAULT_TARGET_AFTER_COMPACTION) >= limits.compactAt
  ) {
    // An early compaction threshold: the default target keeps its proportion to it (0.5 of 0.9).
    limits.targetAfterCompaction =
      Math.floor(limits.compactAt * (DEFAULT_TARGET_AFTER_COMPACTION / 0.9) * 100) / 100;
    reshaped = true;
  }
  const target = limits.targetAfterCompaction;
  if (target !== undefined && !(typeof target === 'number' && target > 0 && target < limits.compactAt)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `limits.targetAfterCompaction is the share of maxTokens a request has right after a compaction, ` +
        `0 < targetAfterCompaction < compactAt (${limits.compactAt}); got ${String(target)}`,
    );
  }
  if (given.keepRecentTokens === undefined && reshaped) limits.keepRecentTokens = tailFor(limits);
  for (const name of ['keepRecentTokens', 'replyReserveTokens', 'checkpointTokens'] as const)
    nonNegativeInteger(name, limits[name]);
  const threshold = Math.floor(limits.maxTokens * limits.compactAt);
  if (limits.keepRecentTokens + limits.checkpointTokens + limits.replyReserveTokens >= threshold) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `keepRecentTokens (${limits.keepRecentTokens}) + checkpointTokens (${limits.checkpointTokens}) ` +
        `+ replyReserveTokens (${limits.replyReserveTokens}) must stay below the ` +
        `compaction threshold (${threshold}), or no compaction could ever get under it`,
    );
  }
  return limits;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInteger(name: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `limits.${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

function nonNegativeInteger(name: string, value: unknown): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `limits.${name} must be an integer >= 0, got ${String(value)}`,
    );
  }
  return value;
}
