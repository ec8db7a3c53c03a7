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
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { estimateTextAsync, tokensAtLeast } from './fixed-counts.js';

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
  /** The counts of the part set are lower bounds (it was not counted): the message says so. */
  atLeast?: boolean;
}

/** What a call sets: each part as its tokens when they are known, as its rendered text when not. */
export interface FixedPartsCall extends Omit<FixedPartsChange, 'descriptionTokens' | 'contextTokens'> {
  description: number | string;
  context: number | string;
}

/**
 * @internal Counts the texts of `call` and refuses parts that do not fit, as
 * {@link assertFixedPartsFit}, without holding the event loop on a long text: parts that a lower
 * bound of their count (`estimateFloor`) already puts past the room are refused uncounted, and
 * the others are counted off the main thread when the estimator can (`estimateAsync`).
 * @returns the tokens of the description and of the context.
 * @throws SessionError as {@link assertFixedPartsFit}.
 */
export async function countFixedPartsFit(
  estimator: TokenEstimator,
  call: FixedPartsCall,
): Promise<{ descriptionTokens: number; contextTokens: number }> {
  const { description, context, ...change } = call;
  const floor = (part: number | string) => (typeof part === 'number' ? part : tokensAtLeast(estimator, part));
  // The rule is monotone in the tokens: refused at a lower bound is refused at the count.
  assertFixedPartsFit({
    ...change,
    descriptionTokens: floor(description),
    contextTokens: floor(context),
    atLeast: typeof description === 'string' || typeof context === 'string',
  });
  const count = (part: number | string) =>
    typeof part === 'number' ? part : estimateTextAsync(estimator, part);
  const [descriptionTokens, contextTokens] = await Promise.all([count(description), count(context)]);
  assertFixedPartsFit({ ...change, descriptionTokens, contextTokens });
  return { descriptionTokens, contextTokens };
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
  const tokens = change.atLeast === true ? 'at least ' : '';
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `${change.where}: with this ${change.part}, the agent description (${tokens}${descriptionTokens} tokens) ` +
      `and the context (${tokens}${contextTokens} tokens) would take ${tokens}${overflow.tokens} tokens` +
      `${corrected} of every ` +
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
        ...(change.atLeast === true ? { atLeast: true } : {}),
      },
    },
  );
}
