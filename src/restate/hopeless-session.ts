/**
 * @internal A session that no compaction can help, on Restate, reported as the in-process runtime
 * reports it. There, a session whose agent description and context alone (with the reply's room)
 * reach the compaction threshold (`thresholdOutOfReach`) is failed by its chart at once: `getSession` and
 * `listSessions` say `failed` with `COMPACTION_NO_PROGRESS` (`hopelessFailure`: both parts'
 * counts and what to do), and `session.compaction.failed` is published. On Restate no actor holds
 * that state, and the limits are the client's: the client derives the failure from the object's
 * estimate under its own limits and correction ({@link withHopeless}), so that it lifts as soon as
 * a smaller part is set; the object publishes the event at the append that finds it
 * ({@link hopelessEvent}), once for the same figures ({@link hopelessMark}).
 */
import { hopelessFailure } from '../../machines/session.helpers.js';
import type { CompactionFailure } from '../../machines/session.types.js';
import { thresholdOutOfReach } from '../core/fixed-parts-room.js';
import type { Limits } from '../core/types.js';
import { compactionFailedEvent, type SessionEvent } from '../runtime/events.js';
import type { SessionInfo, SizeEstimate } from '../runtime/types.js';

/** The local token counts of a session's description and context. */
export interface FixedPartsTokens {
  descriptionTokens: number;
  contextTokens: number;
}

/**
 * The failure of a session whose description and context alone, with the reply's room, reach the
 * compaction threshold, as the in-process chart reports it (`hopelessFailure`, no attempt made);
 * null when a compaction can help.
 *
 * @param sessionId - the session's id.
 * @param parts - the description's and the context's local counts.
 * @param correction - the learned factor from local counts to the model's (1 when none is known).
 * @param limits - the session's `maxTokens`, `compactAt` and `replyReserveTokens`.
 * @returns the failure, or null.
 * @example hopelessFailureOf(id, { descriptionTokens: 15_011, contextTokens: 15_007 }, 1, limits)
 */
export function hopelessFailureOf(
  sessionId: string,
  parts: FixedPartsTokens,
  correction: number,
  limits: Pick<Limits, 'maxTokens' | 'compactAt' | 'replyReserveTokens'>,
): CompactionFailure | null {
  if (!thresholdOutOfReach(parts.descriptionTokens + parts.contextTokens, correction, limits)) return null;
  return hopelessFailure({ sessionId, ...parts, correction, limits, attempts: 0 });
}

/**
 * A session's info as the in-process runtime would give it: `failed` with the failure of
 * {@link hopelessFailureOf} when the session has live messages and its estimate (the object's
 * counts, under the client's limits) says no compaction can help it. An error of its own comes first.
 *
 * @param info - the session's info as the read runtime gives it.
 * @param estimate - the object's estimate under the client's limits.
 * @param correction - the client's learned correction.
 * @param limits - the client's limits of the session (those of the estimate).
 * @returns the info, failed or as it was.
 */
export function withHopeless(
  info: SessionInfo,
  estimate: SizeEstimate,
  correction: number,
  limits: Pick<Limits, 'maxTokens' | 'compactAt' | 'replyReserveTokens'>,
): SessionInfo {
  if (info.error !== null || estimate.liveMessages === 0) return info;
  const failure = hopelessFailureOf(
    info.id,
    { descriptionTokens: estimate.breakdown.agentDescription, contextTokens: estimate.breakdown.context },
    correction,
    limits,
  );
  if (failure === null) return info;
  return { ...info, state: 'failed', error: { code: failure.code, message: failure.message } };
}

/**
 * The mark the object keeps in its head once it published a session's failure: the figures it was
 * told for, so that later appends publish it again only when a part or the limits changed.
 *
 * @param parts - the description's and the context's counts, as the object holds them.
 * @param limits - the limits the append came with.
 * @returns a short string of the figures.
 * @example hopelessMark({ descriptionTokens: 15_011, contextTokens: 15_007 }, limits) // '15011+15007/20000x0.9-1000'
 */
export function hopelessMark(
  parts: FixedPartsTokens,
  limits: Pick<Limits, 'maxTokens' | 'compactAt' | 'replyReserveTokens'>,
): string {
  const { maxTokens, compactAt, replyReserveTokens } = limits;
  return `${parts.descriptionTokens}+${parts.contextTokens}/${maxTokens}x${compactAt}-${replyReserveTokens}`;
}

/**
 * The `session.compaction.failed` event of {@link hopelessFailureOf}'s failure, equal to the
 * in-process runtime's (`willRetryInMs` null: it lifts when a part is made smaller, not by a retry).
 */
export function hopelessEvent(sessionId: string, failure: CompactionFailure, at: string): SessionEvent {
  return compactionFailedEvent({ sessionId, at }, failure, null);
}
