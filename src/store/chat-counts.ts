/**
 * The token counts of a {@link JournaledChatFile} that are not on disk yet. A message appended
 * before its exact count is known is written without `tokens` (its `tokens` in memory is the
 * caller's upper bound) and stays uncounted until `recordCounts` gives the count; the count is
 * then pending until a count record carries it (chat-log-format.ts), with the next append's write.
 * Counts are derived data: one lost in a crash is counted again, never a lost message.
 */
import type { Message } from '../core/types.js';
import { textTokenBound } from '../core/token-bound.js';
import { withoutTokens } from './chat-log-format.js';
import { indexOfSeq } from './chat-data.js';

/** Uncounted seqs and pending counts of one chat. @internal */
export class ChatCounts {
  /**
   * Seqs of held messages whose exact count is on disk nowhere yet: written without `tokens`,
   * their `tokens` in memory is the caller's upper bound until {@link record}.
   */
  readonly uncounted = new Set<number>();
  /** Exact counts given by record() and not written yet: they go in the next append's write. */
  #pending: [number, number][] = [];

  /**
   * Forgets which messages are uncounted (a load starts again from disk); counts recorded and not
   * written yet stay pending, for the load to give back to the messages still uncounted.
   */
  clear(): void {
    this.uncounted.clear();
  }

  /** Whether counts wait to be written. */
  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /**
   * Snapshot messages folded before their count was known: the count of a count record in the log,
   * else the upper bound, and the message is uncounted (the caller counts it again).
   */
  fromSnapshot(messages: Message[], counts: ReadonlyMap<number, number> | undefined): void {
    for (const [i, m] of messages.entries()) {
      if (m.tokens !== undefined) continue;
      const tokens = counts?.get(m.seq);
      if (tokens === undefined) this.uncounted.add(m.seq);
      messages[i] = { ...m, tokens: tokens ?? textTokenBound(m.content) ?? 0 };
    }
  }

  /** Sets the exact counts of uncounted messages in `messages` (in place), pending their write. */
  record(messages: Message[], counts: readonly { seq: number; tokens: number }[]): void {
    for (const { seq, tokens } of counts) {
      if (!this.uncounted.delete(seq)) continue;
      const i = indexOfSeq(messages, seq);
      if (i >= 0) messages[i] = Object.freeze({ ...messages[i]!, tokens });
      this.#pending.push([seq, tokens]);
    }
  }

  /** The pending counts, for a write: they are no longer pending unless {@link restore}d. */
  take(): [number, number][] {
    const counts = this.#pending;
    this.#pending = [];
    return counts;
  }

  /** Counts taken for a write that failed: pending again, before any recorded since. */
  restore(counts: [number, number][]): void {
    this.#pending = counts.concat(this.#pending);
  }

  /**
   * A copy of the list as a snapshot holds it: a message whose count is not known yet without its
   * `tokens` (its bound is no count), so that a persisted count is always exact.
   */
  forSnapshot(messages: readonly Message[]): Message[] {
    if (this.uncounted.size === 0) return messages.slice();
    return messages.map((m) => (this.uncounted.has(m.seq) ? (withoutTokens(m) as Message) : m));
  }
}
