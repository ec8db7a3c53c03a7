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

/**
 * Whether the host marked a message internal (`metadata.internal: true`, as DAGent did): it is
 * kept in history and archived like any other, but never sent in a request, never read by the
 * compactor or the ledger, and shown only on demand.
 *
 * @param message - a message (its `metadata` is read).
 * @returns true when `metadata.internal` is `true`.
 * @example isInternalMessage({ metadata: { internal: true } }) // true
 */
export function isInternalMessage(message: { metadata?: Record<string, unknown> | undefined }): boolean {
  return message.metadata?.['internal'] === true;
}

/**
 * What a live message adds to the request-size rule: its stored count, or 0 for an internal
 * message (requests leave it out). Every sum of live tokens (the session's threshold, compaction's
 * projections, request building) goes through here, so that the estimate counts what is rendered.
 *
 * @param messages - live messages, each with its stored `tokens`.
 * @returns the sum of the stored counts of the messages a request sends.
 * @example countedTokens([{ tokens: 40 }, { tokens: 900, metadata: { internal: true } }]) // 40
 */
export function countedTokens(
  messages: ReadonlyArray<{ tokens: number; metadata?: Record<string, unknown> | undefined }>,
): number {
  let sum = 0;
  for (const message of messages) if (!isInternalMessage(message)) sum += message.tokens;
  return sum;
}
