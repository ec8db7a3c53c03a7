/**
 * How the `session` object lays out one session in Restate's keyed state, and the small pure rules
 * over it. An append touches `msg:<pos>` keys and `head`, whatever the history's length; a commit
 * touches `seg:<n>`, `checkpoint`, `checkpoint:<v>` and `head`. Messages are never moved or
 * rewritten: a message stays in its `msg:<pos>` key for good, and archiving it is moving the
 * head's `archivedCount` past it. So no value ever holds more than one message, and a session of
 * any length fits under Restate's 32 MiB cap per value.
 *
 * Order of writes (docs/restate.md, fact 1: a shared handler sees the unfinished writes of an
 * exclusive one): new keys first, `head` last. A reader reads `head` first and then only keys it
 * names, which are complete by then.
 */
import { SessionError } from '../core/errors.js';
import type { ArchiveSegment } from '../core/types.js';
import type { CommitResult, SessionCommit } from '../store/contract.js';

/** The head: small, written last by every write. */
export interface HeadState {
  schema: 1;
  /** Bumped by every write. */
  version: number;
  /** Messages stored: positions 0..count-1, each in `msg:<pos>`. */
  count: number;
  /** Positions below this are archived (the first live position). */
  archivedCount: number;
  /** Seq of the last message; -1 for none. */
  lastSeq: number;
  /** Tokens of all messages stored (archived and live). */
  tokens: number;
  /** Tokens of the archived messages. */
  archivedTokens: number;
  /** Seq of the last archived message; -1 before any. */
  archivedThroughSeq: number;
  /** Committed archive segments, `seg:1..segments`. */
  segments: number;
  /**
   * Versions in `checkpoint:<v>`, ascending; the last is the current one (as changed by checks
   * since: `current:<v>`).
   */
  versions: number[];
  /** The last commits by id, newest last: a commit repeated with its id returns this and changes nothing. */
  commits: { id: string; result: CommitResult }[];
  /**
   * Whether the record says archived (set by create and record writes; absent in heads written
   * before it, whose record is read instead), so that an append reads one key.
   */
  archived?: boolean;
  /**
   * Tokens of the internal messages stored (archived and live) and of the archived ones: requests
   * leave them out, so the estimate subtracts them. Absent in heads written before them (and kept
   * absent, since their messages were not summed): the estimate then reads the live messages.
   */
  internalTokens?: number;
  archivedInternalTokens?: number;
  /** Tokens of the fixed parts (description, context, checkpoint) as last counted, for the threshold. */
  fixedTokens?: number;
  /**
   * The figures (`hopelessMark`) for which an append published that no compaction can help the
   * session (its description and context, with the reply's room, reach the threshold:
   * `thresholdOutOfReach`); absent before any.
   */
  hopeless?: string;
  /** The compaction workflow this object started and that has not ended yet (one at a time). */
  compaction?: { id: string } | null;
}

/** What `seg:<n>` holds: a segment without its messages, which stay in their `msg:<pos>` keys. */
export interface SegmentState extends Omit<ArchiveSegment, 'messages'> {
  /** Position of its first message. */
  firstPos: number;
  /** How many messages it holds. */
  messageCount: number;
}

/** How many commit ids the head remembers (a retried commit is one of the last few). */
export const REMEMBERED_COMMITS = 16;

/** State keys. */
export const KEYS = {
  head: 'head',
  record: 'record',
  context: 'context',
  description: 'description',
  counts: 'counts',
  version: (v: number) => `checkpoint:${v}`,
  current: (v: number) => `current:${v}`,
  message: (pos: number) => `msg:${pos}`,
  segment: (n: number) => `seg:${n}`,
  /** The position of the message stored under an idempotency key. */
  idempotency: (key: string) => `key:${key}`,
} as const;

/** A head for a new session. */
export function newHead(checkpointVersion: number | null): HeadState {
  return {
    schema: 1,
    version: 1,
    count: 0,
    archivedCount: 0,
    lastSeq: -1,
    tokens: 0,
    archivedTokens: 0,
    archivedThroughSeq: -1,
    segments: 0,
    versions: checkpointVersion === null ? [] : [checkpointVersion],
    commits: [],
    internalTokens: 0,
    archivedInternalTokens: 0,
  };
}

/**
 * What a commit sends to the object: the contract's commit with the segment's messages left out
 * (the object has them), so that a commit's size does not grow with what it archives.
 */
export interface CommitCall {
  /** Names the commit: a second call with the same id returns the first one's result. */
  commitId: string;
  segment: (Omit<ArchiveSegment, 'messages'> & { messageCount: number }) | null;
  checkpoint: SessionCommit['checkpoint'];
  keepChecks?: boolean;
}

/** The result of a handler: a value, or a SessionError as data (it crosses the ingress as JSON). */
export type Outcome<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      error: { code: string; message: string; retryable: boolean; details: Record<string, unknown> };
    };

/** Turns a SessionError thrown by a handler's checks into an outcome; rethrows anything else. */
export function failed(error: unknown): Outcome<never> {
  if (error instanceof SessionError) {
    return {
      ok: false,
      error: { code: error.code, message: error.message, retryable: error.retryable, details: error.details },
    };
  }
  throw error;
}
