/**
 * The chat a {@link JournaledChatFile} holds, as data: the empty chat, the check a snapshot must
 * pass, and the figures derived from its messages. Pure functions over messages in seq order.
 */
import { SessionError } from '../core/errors.js';
import type { ChatFile, Message } from '../core/types.js';
import { messagesProblem } from './archive-rules.js';

/** The empty chat. */
export function emptyChat(): ChatFile {
  return {
    messages: [],
    totalMessages: 0,
    oldestMessageTimestamp: null,
    newestMessageTimestamp: null,
    snapshotSeq: -1,
  };
}

/** Why `value` is no chat.json, or null. @internal */
export function validateChat(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'chat.json must hold an object';
  const v = value as Partial<ChatFile>;
  if (!Array.isArray(v.messages)) return '"messages" must be a list';
  // A message folded before its count was known holds no tokens (a count record carries it).
  const malformed = messagesProblem(v.messages, { tokensOptional: true });
  if (malformed !== null) return malformed.problem;
  if (v.snapshotSeq !== undefined && typeof v.snapshotSeq !== 'number')
    return '"snapshotSeq" must be a number';
  return null;
}

/** Index of the message with `seq` in a list in seq order, or -1. @internal */
export function indexOfSeq(messages: readonly Message[], seq: number): number {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = messages[mid]!.seq;
    if (at === seq) return mid;
    if (at < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The seq of the last message, or -1. @internal */
export function lastSeqOf(messages: readonly Message[]): number {
  return messages.length === 0 ? -1 : messages[messages.length - 1]!.seq;
}

/** Sets the chat's derived figures from its messages, in place; returns it. @internal */
export function withDerived(chat: ChatFile): ChatFile {
  chat.totalMessages = chat.messages.length;
  chat.oldestMessageTimestamp = chat.messages[0]?.timestamp ?? null;
  chat.newestMessageTimestamp = chat.messages[chat.messages.length - 1]?.timestamp ?? null;
  return chat;
}

/**
 * Checks that the seqs of `messages` increase from above `last`, the highest seq held.
 * @throws SessionError `INVALID_MESSAGE` for the first that does not.
 */
export function assertFollows(messages: readonly Message[], last: number): void {
  for (const message of messages) {
    if (!(message.seq > last)) {
      throw new SessionError(
        'INVALID_MESSAGE',
        'store',
        `message seq ${message.seq} does not follow seq ${last}; appends must be in order`,
      );
    }
    last = message.seq;
  }
}
