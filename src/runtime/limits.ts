/**
 * Token limits: defaults, validation, and resolution per runtime and per agent type.
 */
import { SessionError } from '../core/errors.js';
import type { Limits } from '../core/types.js';

/** The model's context budget for one request when nothing else is said. */
export const DEFAULT_MAX_TOKENS = 100_000;

/**
 * Limits for a given `maxTokens`: compaction at 90%, a verbatim tail of 20% and a checkpoint of
 * at most 10% of it, 4,096 tokens kept for the reply (less for small windows).
 */
export function defaultLimits(maxTokens = DEFAULT_MAX_TOKENS): Limits {
  return {
    maxTokens,
    compactAt: 0.9,
    keepRecentTokens: Math.floor(maxTokens * 0.2),
    replyReserveTokens: Math.min(4_096, Math.floor(maxTokens * 0.05)),
    checkpointTokens: Math.floor(maxTokens * 0.1),
  };
}

/**
 * Fills in a partial `Limits` over `base` (or over the defaults for its `maxTokens`) and checks
 * that the result can work.
 * @throws SessionError `INVALID_ARGUMENT` saying which figure is wrong and why.
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
  const maxTokens = partial?.maxTokens ?? base?.maxTokens ?? DEFAULT_MAX_TOKENS;
  const derived =
    base && base.maxTokens === maxTokens ? base : defaultLimits(positiveInteger('maxTokens', maxTokens));
  const limits: Limits = { ...derived, ...stripUndefined(partial ?? {}) };
  positiveInteger('maxTokens', limits.maxTokens);
  if (!(typeof limits.compactAt === 'number' && limits.compactAt > 0 && limits.compactAt <= 1)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `limits.compactAt is a fraction of maxTokens, 0 < compactAt <= 1; got ${String(limits.compactAt)}`,
    );
  }
  for (const name of ['keepRecentTokens', 'replyReserveTokens', 'checkpointTokens'] as const)
    nonNegativeInteger(name, limits[name]);
  const threshold = Math.floor(limits.maxTokens * limits.compactAt);
  if (limits.keepRecentTokens + limits.checkpointTokens + limits.replyReserveTokens >= threshold) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `keepRecentTokens (${limits.keepRecentTokens}) + checkpointTokens (${limits.checkpointTokens}) + replyReserveTokens (${limits.replyReserveTokens}) must stay below the compaction threshold (${threshold}), or no compaction could ever get under it`,
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
