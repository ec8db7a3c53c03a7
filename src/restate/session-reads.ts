/**
 * @internal The shared handlers of the `session` object: the reads of the store contract. Each
 * reads `head` first and then only the keys it names, which an exclusive handler wrote before it
 * (fact 1 of docs/restate.md), so a read racing a write sees the session before or after it.
 * Pages are capped in bytes ({@link PAGE_BYTES}), under Restate's 32 MiB per answer; the client
 * store asks for the next page.
 */
import * as restate from '@restatedev/restate-sdk';
import { SessionError } from '../core/errors.js';
import type { AgentDescription, Checkpoint, Message, SessionContext, SessionRecord } from '../core/types.js';
import type { ArchiveQuery, SessionCounts, SessionSummary } from '../store/contract.js';
import { summaryOf } from '../store/session-summary.js';
import { PAGE_BYTES } from './limits.js';
import { KEYS, type HeadState, type SegmentState } from './session-state.js';

type Reader = restate.ObjectSharedContext | restate.ObjectContext;

/**
 * What `msg:<pos>` holds: the message, the tokens of every message through it, and of every
 * internal message through it (`icum`, in sessions whose head sums them).
 */
export interface StoredMessage {
  m: Message;
  cum: number;
  icum?: number;
}

/** A page of messages, and whether the range holds more beyond it. */
export interface MessagePage {
  messages: Message[];
  more: boolean;
}

/** The head and the small parts of a session, with the first page of its live messages. */
export interface LoadedState {
  head: HeadState;
  record: SessionRecord;
  checkpoint: Checkpoint | null;
  context: SessionContext | null;
  agentDescription: AgentDescription | null;
  counts: SessionCounts;
  live: MessagePage;
}

/** The head, or SESSION_NOT_FOUND. */
export async function readHead(ctx: Reader, id: string): Promise<HeadState> {
  const head = await ctx.get<HeadState>(KEYS.head);
  if (head === null) {
    throw new SessionError('SESSION_NOT_FOUND', 'store', `no session "${id}" in the Restate session object`, {
      details: { sessionId: id },
    });
  }
  return head;
}

/** The current checkpoint (its version as changed by checks recorded since, or as committed), or null. */
export async function currentCheckpoint(ctx: Reader, head: HeadState): Promise<Checkpoint | null> {
  const version = head.versions[head.versions.length - 1];
  if (version === undefined) return null;
  return (await ctx.get<Checkpoint>(KEYS.current(version))) ?? ctx.get<Checkpoint>(KEYS.version(version));
}

/** Messages at positions `from` (inclusive) to `to` (exclusive), stepping by `step`, up to `maxBytes` and `limit`. */
async function readRange(
  ctx: Reader,
  positions: { from: number; to: number; step: 1 | -1 },
  keep: (m: Message) => 'take' | 'skip' | 'stop',
  limit: number,
  maxBytes: number,
): Promise<MessagePage> {
  const messages: Message[] = [];
  let bytes = 0;
  const { from, to, step } = positions;
  const inside = (pos: number) => (step === 1 ? pos < to : pos > to);
  // Lazy reads of a batch are issued together (RestatePromise.all): one round trip to the server
  // for the batch, not one per message. The batch shrinks when messages are large.
  let batch = 8;
  for (let pos = from; inside(pos);) {
    const wanted: number[] = [];
    for (let p = pos; inside(p) && wanted.length < batch; p += step) wanted.push(p);
    const got = await restate.RestatePromise.all(
      wanted.map(
        (p) => ctx.get<StoredMessage>(KEYS.message(p)) as restate.RestatePromise<StoredMessage | null>,
      ),
    );
    for (let i = 0; i < got.length; i++) {
      const stored = got[i]!;
      if (stored === null) {
        throw new SessionError(
          'CORRUPT_FILE',
          'store',
          `message at position ${wanted[i]} is missing from the session object`,
          { details: { position: wanted[i] } },
        );
      }
      const verdict = keep(stored.m);
      if (verdict === 'stop') return { messages, more: false };
      if (verdict === 'skip') continue;
      const size = JSON.stringify(stored.m).length;
      // Always one message, so that a page makes progress; then as many as fit.
      if (messages.length >= limit || (messages.length > 0 && bytes + size > maxBytes))
        return { messages, more: true };
      messages.push(stored.m);
      bytes += size;
    }
    pos = wanted[wanted.length - 1]! + step;
    const average = bytes / Math.max(1, messages.length);
    batch = Math.max(1, Math.min(64, Math.floor(maxBytes / 4 / Math.max(average, 1))));
  }
  return { messages, more: false };
}

/** The first position in [lo, hi) whose message's seq passes `after` (seqs increase with positions). */
async function firstAfter(ctx: Reader, lo: number, hi: number, after: number): Promise<number> {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const stored = await ctx.get<StoredMessage>(KEYS.message(mid));
    if (stored !== null && stored.m.seq > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The session's parts and the first page of live messages. */
export async function loadSession(ctx: Reader, id: string, maxBytes = PAGE_BYTES): Promise<LoadedState> {
  const head = await readHead(ctx, id);
  const record = await ctx.get<SessionRecord>(KEYS.record);
  if (record === null)
    throw new SessionError('CORRUPT_FILE', 'store', `session ${id}: the object has a head without a record`);
  return {
    head,
    record,
    checkpoint: await currentCheckpoint(ctx, head),
    context: await ctx.get<SessionContext>(KEYS.context),
    agentDescription: await ctx.get<AgentDescription>(KEYS.description),
    counts: (await ctx.get<SessionCounts>(KEYS.counts)) ?? {
      description: null,
      context: null,
      checkpoint: null,
    },
    live: await readRange(
      ctx,
      { from: head.archivedCount, to: head.count, step: 1 },
      () => 'take',
      Infinity,
      maxBytes,
    ),
  };
}

/** Every live message of `head`, in order (a clear's: they are archived by the handler that reads them). */
export async function liveMessages(ctx: Reader, head: HeadState): Promise<Message[]> {
  const range = { from: head.archivedCount, to: head.count, step: 1 } as const;
  return (await readRange(ctx, range, () => 'take', Infinity, Infinity)).messages;
}

/** Live messages after seq `after`, up to the head's last (a later page of a load). */
export async function livePage(
  ctx: Reader,
  id: string,
  after: number,
  lastSeq: number,
  maxBytes = PAGE_BYTES,
): Promise<MessagePage> {
  const head = await readHead(ctx, id);
  const from = await firstAfter(ctx, 0, head.count, after);
  return readRange(
    ctx,
    { from, to: head.count, step: 1 },
    (m) => (m.seq > lastSeq ? 'stop' : 'take'),
    Infinity,
    maxBytes,
  );
}

/** A page of the archive (see {@link ArchiveQuery}), capped at `maxBytes`. */
export async function archivePage(
  ctx: Reader,
  id: string,
  query: ArchiveQuery,
  maxBytes = PAGE_BYTES,
): Promise<MessagePage & { archivedThroughSeq: number }> {
  const head = await readHead(ctx, id);
  const after = query.after ?? -1;
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  const limit = query.limit ?? Infinity;
  const end = head.archivedCount;
  const page =
    query.order === 'desc'
      ? await readRange(
          ctx,
          { from: (await firstAfter(ctx, 0, end, before - 1)) - 1, to: -1, step: -1 },
          (m) => (m.seq <= after ? 'stop' : 'take'),
          limit,
          maxBytes,
        )
      : await readRange(
          ctx,
          { from: await firstAfter(ctx, 0, end, after), to: end, step: 1 },
          (m) => (m.seq >= before ? 'stop' : 'take'),
          limit,
          maxBytes,
        );
  return { ...page, archivedThroughSeq: head.archivedThroughSeq };
}

/** Segment `n`'s range, or null beyond the last one. */
export async function segmentInfo(ctx: Reader, id: string, n: number): Promise<SegmentState | null> {
  const head = await readHead(ctx, id);
  if (!Number.isInteger(n) || n < 1 || n > head.segments) return null;
  return ctx.get<SegmentState>(KEYS.segment(n));
}

/** A checkpoint version (the current one without `version`), or null. */
export async function readCheckpoint(ctx: Reader, id: string, version?: number): Promise<Checkpoint | null> {
  const head = await readHead(ctx, id);
  const current = head.versions[head.versions.length - 1];
  if (version === undefined || version === current) return currentCheckpoint(ctx, head);
  if (!head.versions.includes(version)) return null;
  return ctx.get<Checkpoint>(KEYS.version(version));
}

/** What `list()` shows of the session, from its head, record and checkpoint only. */
export async function sessionSummary(ctx: Reader, id: string): Promise<SessionSummary> {
  const head = await readHead(ctx, id);
  const record = await ctx.get<SessionRecord>(KEYS.record);
  if (record === null)
    throw new SessionError('CORRUPT_FILE', 'store', `session ${id}: the object has a head without a record`);
  const checkpoint = await currentCheckpoint(ctx, head);
  const liveTokens = head.tokens - head.archivedTokens;
  return summaryOf(record, checkpoint, {
    live: head.count - head.archivedCount,
    liveTokens,
    lastSeq: Math.max(head.lastSeq, head.archivedThroughSeq),
  });
}

/** The key whose presence says the session exists. */
export const HEAD_KEY = KEYS.head;
