/**
 * The one rule for how large a session's fixed parts (its agent description and its context) may
 * be. They go into every request and no compaction can shrink them, so they must leave, below the
 * compaction threshold, the room kept for the reply and the verbatim tail (`keepRecentTokens`).
 * Past that, every request of the session is at the threshold with no conversation at all: each
 * append starts a compaction (model calls, with `AnthropicCompactor`) that cannot get under it,
 * and past `maxTokens` no request can be built. `resolveLimits` holds the limits to the same
 * shape of rule: tail + checkpoint + reply reserve below the threshold.
 */
import { requestTokens } from './request-size.js';
import type { Limits } from './types.js';

/** The limits the rule reads. */
export type FixedPartsLimits = Pick<
  Limits,
  'maxTokens' | 'compactAt' | 'replyReserveTokens' | 'keepRecentTokens'
>;

/** Why a session's fixed parts do not fit: the figures for the message and for programs. */
export interface FixedPartsOverflow {
  /** The fixed parts' tokens, corrected (what a request counts them as). */
  tokens: number;
  /** What they must count less than: `threshold - replyReserveTokens - keepRecentTokens`. */
  room: number;
  /** The compaction threshold, `floor(maxTokens * compactAt)`. */
  threshold: number;
  maxTokens: number;
  replyReserveTokens: number;
  keepRecentTokens: number;
}

/**
 * The room the limits leave a session's fixed parts: the description and context together
 * (corrected tokens) must count less than this, what is left below the compaction threshold once
 * the room for the reply and the verbatim tail are kept. More than `checkpointTokens` for limits
 * that `resolveLimits` accepts.
 *
 * @param limits - the session's limits.
 * @returns `floor(maxTokens * compactAt) - replyReserveTokens - keepRecentTokens`.
 * @example
 * fixedPartsRoom({ maxTokens: 20_000, compactAt: 0.9, replyReserveTokens: 1_000, keepRecentTokens: 4_000 })
 * // 13000
 */
export function fixedPartsRoom(limits: FixedPartsLimits): number {
  return (
    Math.floor(limits.maxTokens * limits.compactAt) - limits.replyReserveTokens - limits.keepRecentTokens
  );
}

/**
 * Whether fixed parts of `localTokens` (the local counts of the description and the context,
 * summed) pass the {@link fixedPartsRoom} of `limits` once corrected: the request they make with
 * the reply's room and the verbatim tail reaches the compaction threshold.
 *
 * @param localTokens - the description's and the context's local token counts, summed.
 * @param correction - the learned factor from local counts to the model's (1 when none is known).
 * @param limits - the session's limits.
 * @returns null when they fit; else the figures that say by how much they do not.
 * @example
 * const limits = { maxTokens: 20_000, compactAt: 0.9, replyReserveTokens: 1_000, keepRecentTokens: 4_000 };
 * fixedPartsOverflow(12_000, 1, limits); // null
 * fixedPartsOverflow(14_000, 1, limits);
 * // { tokens: 14000, room: 13000, threshold: 18000, maxTokens: 20000, replyReserveTokens: 1000,
 * //   keepRecentTokens: 4000 }
 */
export function fixedPartsOverflow(
  localTokens: number,
  correction: number,
  limits: FixedPartsLimits,
): FixedPartsOverflow | null {
  const threshold = Math.floor(limits.maxTokens * limits.compactAt);
  // The request-size rule, with no checkpoint and the tail as the conversation.
  if (requestTokens(localTokens, correction, limits.replyReserveTokens) + limits.keepRecentTokens < threshold)
    return null;
  return {
    tokens: requestTokens(localTokens, correction, 0),
    room: fixedPartsRoom(limits),
    threshold,
    maxTokens: limits.maxTokens,
    replyReserveTokens: limits.replyReserveTokens,
    keepRecentTokens: limits.keepRecentTokens,
  };
}

/**
 * Whether no compaction can help a session: its fixed parts (the description and context, which
 * are never compacted), with the reply's room and `extraTokens`, pass `maxTokens`, so that not
 * even a request without checkpoint or live messages fits. A compaction (model calls, with
 * `AnthropicCompactor`) could only end in `COMPACTION_NO_PROGRESS`; the session's own trigger, the
 * requests of the runtime and the triggers on Restate start none. A session gets such parts only
 * from before {@link fixedPartsOverflow} refused them (larger limits, an older version).
 * Below `maxTokens` a compaction still folds messages into the checkpoint for requests that fit,
 * even when it cannot bring them under the threshold: that case is left to the no-progress guard.
 *
 * @param localTokens - the description's and the context's local token counts, summed.
 * @param correction - the learned factor from local counts to the model's (1 when none is known).
 * @param limits - the session's limits (`maxTokens`, `replyReserveTokens`).
 * @param extraTokens - what the request adds that is not compacted either (a user message not
 *   stored yet), already corrected; 0 by default.
 * @returns true when the fixed parts alone pass the limit.
 * @example
 * const limits = { maxTokens: 20_000, replyReserveTokens: 1_000 };
 * noCompactionCanHelp(18_000, 1, limits); // false: 19000 fits
 * noCompactionCanHelp(19_500, 1, limits); // true: 20500 does not
 */
export function noCompactionCanHelp(
  localTokens: number,
  correction: number,
  limits: Pick<Limits, 'maxTokens' | 'replyReserveTokens'>,
  extraTokens = 0,
): boolean {
  return requestTokens(localTokens, correction, limits.replyReserveTokens) + extraTokens > limits.maxTokens;
}
