/**
 * @internal The runtime's use of the fixed-parts rule (src/core/fixed-parts-room.ts): the calls
 * that set a session's agent description or context (`createSession`, `setContext`,
 * `setAgentDescription`, the agent profiles of `createSessionRuntime({ agents })`, and the same
 * calls on Restate) refuse, before writing anything, a value that would leave the session unable
 * to hold a conversation in a request.
 */
import { SessionError } from '../core/errors.js';
import { fixedPartsOverflow } from '../core/fixed-parts-room.js';
import type { Limits } from '../core/types.js';

/** What a call would make the session's fixed parts, in local tokens. */
export interface FixedPartsChange {
  /** Who asks, for the message: `setContext`, `createSession`, `createSessionRuntime: agents: qa`. */
  where: string;
  /** The part the call sets, as the host names it: `context`, `agentDescription`, `qa.description`. */
  part: string;
  /** Local tokens of the description and of the context after the call (0 for none). */
  descriptionTokens: number;
  contextTokens: number;
  /**
   * Their sum before the call, when the session exists: a call that does not make them larger is
   * let be, so that a session stored with parts too large can be shrunk one part at a time.
   */
  before?: number;
  limits: Limits;
  /** The learned correction factor requests use (1 when none is known). */
  correction: number;
}

/**
 * @internal Refuses a change whose description and context would pass the room the limits leave
 * them (see `fixedPartsRoom`).
 * @throws SessionError `INVALID_ARGUMENT` with the counts, the room, and what to do;
 *   `details.reason` is `'fixed-parts-too-large'`.
 */
export function assertFixedPartsFit(change: FixedPartsChange): void {
  const { descriptionTokens, contextTokens, limits, correction } = change;
  const local = descriptionTokens + contextTokens;
  if (change.before !== undefined && local <= change.before) return;
  const overflow = fixedPartsOverflow(local, correction, limits);
  if (overflow === null) return;
  const corrected = correction === 1 ? '' : ` (${local} locally, times the learned correction ${correction})`;
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `${change.where}: with this ${change.part}, the agent description (${descriptionTokens} tokens) and ` +
      `the context (${contextTokens} tokens) would take ${overflow.tokens} tokens${corrected} of every ` +
      `request, more than the ${overflow.room} the limits leave them: the compaction threshold ` +
      `(${overflow.threshold} of maxTokens ${overflow.maxTokens}) minus the reply's room ` +
      `(replyReserveTokens ${overflow.replyReserveTokens}) and the verbatim tail ` +
      `(keepRecentTokens ${overflow.keepRecentTokens}). No compaction can shrink them, so every request ` +
      `would be over the threshold. Shorten the ${change.part} (keep large material outside the session ` +
      `and refer to it), or give this agent type a larger maxTokens; nothing was written`,
    {
      details: {
        reason: 'fixed-parts-too-large',
        part: change.part,
        descriptionTokens,
        contextTokens,
        ...overflow,
      },
    },
  );
}
