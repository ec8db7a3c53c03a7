/**
 * The one rule for the size of a request, used by the session's thresholds, by compaction and by
 * request building: local token counts, multiplied by the learned correction factor and rounded
 * up, plus the room kept for the reply (which is not corrected: it is a budget, not a count).
 */

/**
 * Tokens of a request whose parts count `localTokens` by the local estimator.
 *
 * @param localTokens - the sum of the parts' local counts (description, context, checkpoint, messages...).
 * @param correction - the learned factor from local counts to the model's (1 when none is known).
 * @param replyReserveTokens - room kept for the reply.
 * @returns `ceil(localTokens * correction) + replyReserveTokens`.
 * @example requestTokens(10_000, 1.1, 4_096) // 15_096
 */
export function requestTokens(localTokens: number, correction: number, replyReserveTokens: number): number {
  return Math.ceil(localTokens * correction) + replyReserveTokens;
}
