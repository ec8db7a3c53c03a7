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
 * It implies {@link thresholdOutOfReach}, which is what decides whether a compaction is started;
 * this one says, in addition, that no request can be built at all (`REQUEST_TOO_LARGE`).
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

/**
 * Whether no compaction can bring a request of the session under the compaction threshold: its
 * fixed parts (the description and context, never compacted), with the reply's room and
 * `extraTokens`, reach `floor(maxTokens * compactAt)` with no checkpoint and no live message.
 *
 * The rule is exact for the request-size rule: every request holds the fixed parts and the reply's
 * room; the best a compaction can leave (escalation 2: no verbatim tail, the checkpoint
 * re-compressed) adds a checkpoint and no message, and the smallest checkpoint renders as nothing
 * (the empty checkpoint, src/core/empty-checkpoint.ts, renders as `''`: 0 tokens in
 * `requestTokens`). So at or past the threshold here, every compaction ends in
 * `COMPACTION_NO_PROGRESS` after its model calls (two to five with `AnthropicCompactor`), and
 * again on later appends and requests; below it, the smallest request is under the threshold.
 *
 * The session's own trigger, the runtime's `buildRequest` and `send`, and the triggers on Restate
 * start no compaction for such a session; requests are still built while they fit `maxTokens`
 * (the oldest live messages left out past it, never from disk), and a `compact` asked for still
 * runs. {@link noCompactionCanHelp} is the case where not even the smallest request fits.
 *
 * @param localTokens - the description's and the context's local token counts, summed.
 * @param correction - the learned factor from local counts to the model's (1 when none is known).
 * @param limits - the session's limits (`maxTokens`, `compactAt`, `replyReserveTokens`).
 * @param extraTokens - what the request adds that is not compacted either (a user message not
 *   stored yet), already corrected; 0 by default.
 * @returns true when the smallest request any compaction can leave reaches the threshold.
 * @example
 * const limits = { maxTokens: 20_000, compactAt: 0.9, replyReserveTokens: 1_000 };
 * thresholdOutOfReach(16_999, 1, limits); // false: 17999 is under 18000
 * thresholdOutOfReach(17_000, 1, limits); // true: 18000 reaches it (and fits maxTokens)
 */
export function thresholdOutOfReach(
  localTokens: number,
  correction: number,
  limits: Pick<Limits, 'maxTokens' | 'compactAt' | 'replyReserveTokens'>,
  extraTokens = 0,
): boolean {
  const threshold = Math.floor(limits.maxTokens * limits.compactAt);
  return requestTokens(localTokens, correction, limits.replyReserveTokens) + extraTokens >= threshold;
}

/**
 * What a session whose threshold is out of reach ({@link thresholdOutOfReach}) is told, after its
 * id and counts: why no compaction was started, what still works, and what to do.
 *
 * @param tokens - the fixed parts' tokens (and `extraTokens`), corrected, without the reply's room.
 * @param limits - the session's limits.
 * @param extraTokens - the tokens of a user message not stored yet that `tokens` include; 0 by default.
 * @returns the sentence, for the session's failure and for a request's `compactionError`.
 * @example
 * thresholdOutOfReachReason(17_500, { maxTokens: 20_000, compactAt: 0.9, replyReserveTokens: 1_000 })
 * // 'take 17500 tokens of every request, and with the reply\'s room (1000) reach the compaction threshold ...'
 */
export function thresholdOutOfReachReason(
  tokens: number,
  limits: Pick<Limits, 'maxTokens' | 'compactAt' | 'replyReserveTokens'>,
  extraTokens = 0,
): string {
  return (
    (extraTokens > 0 ? `(with the ${extraTokens} tokens of this user message) ` : '') +
    `take ${tokens} tokens of every request, and with the reply's room (${limits.replyReserveTokens}) ` +
    `reach the compaction threshold ${Math.floor(limits.maxTokens * limits.compactAt)}: no compaction ` +
    `can bring a request under it (they are never compacted), so none was started. Requests are ` +
    `still built while they fit maxTokens ${limits.maxTokens}, leaving the oldest messages out past it ` +
    `(compact() still folds them into the checkpoint when asked). Shorten them (setContext, ` +
    `setAgentDescription) or give this agent type a larger maxTokens or compactAt`
  );
}
