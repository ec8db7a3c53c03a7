/**
 * @internal `addMessage` inside the `session` object: the write path of a session on Restate. The
 * exclusive handler validates the caller's message, counts its tokens, numbers it after the last
 * one and writes it (one `msg:<pos>` key and the head), so that any number of clients append to
 * one session at once, each call in its turn. Past the session's threshold it starts the
 * `compaction` workflow itself (one per session at a time, named by the message that crossed
 * it), and it publishes its event to the namespace's feed with a one-way send: no second round
 * trip for the caller. A replay of the handler writes the same message: its id and timestamp come
 * with the call, and the count is a pure function of the message.
 */
import * as restate from '@restatedev/restate-sdk';
import { thresholdOf } from '../../machines/session.machine.js';
import { requestTokens } from '../core/request-size.js';
import type { Limits, Message, MessageInput } from '../core/types.js';
import type { SessionEvent } from '../runtime/events.js';
import { conflictError, replyKeyOf, sameMessage } from '../runtime/idempotency.js';
import { validateMessageInput } from '../runtime/validate.js';
import type { SessionCounts } from '../store/contract.js';
import { sessionEvents } from './event-feed.js';
import { hopelessEvent, hopelessFailureOf, hopelessMark, type FixedPartsTokens } from './hopeless-session.js';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { readHead, type StoredMessage } from './session-reads.js';
import { KEYS, type HeadState } from './session-state.js';
import { assertWritable, estimatorOf, writeMessages } from './session-writes.js';

type Ctx = restate.ObjectContext;

/** What a client sends to `session.addMessage`. */
export interface AddMessageCall {
  /** The message as the caller gave it: validated again here. */
  input: MessageInput;
  /** Its id and timestamp, chosen by the client, so that a replay of the handler writes the same message. */
  id: string;
  timestamp: string;
  /** The session's limits as the client resolves them (runtime options, agent type): the threshold. */
  limits: Limits;
  /** The feed (namespace) to publish the event to, or null to publish none. */
  feed: string | null;
  /** Names the publishing client in the feed. */
  origin: string;
  /**
   * A turn's reply: stored under the key `<replyTo>/reply` (the turn's idempotency key), which no
   * caller's key can be, as the runtime's `send` stores it.
   */
  replyTo?: string;
}

/** What `session.addMessage` answers: the stored message without its content and metadata, which the caller has. */
export type AddMessageAnswer = Omit<Message, 'content' | 'metadata'> & { stored: 'new' | 'repeat' };

/** The name of the workflow the object starts at the threshold (`createCompactionWorkflow`'s default). */
export const COMPACTION_WORKFLOW = 'compaction';

/** The message stored under an idempotency key, or null. */
export async function messageUnderKey(
  ctx: restate.ObjectSharedContext,
  key: string,
): Promise<Message | null> {
  const pos = await ctx.get<number>(KEYS.idempotency(key));
  if (pos === null) return null;
  return (await ctx.get<StoredMessage>(KEYS.message(pos)))?.m ?? null;
}

/**
 * The head, and the position stored under the caller's idempotency key (null for none or no key),
 * read together: lazy state reads issued at once are one round trip to the server, not one each.
 */
async function headAndKey(
  ctx: Ctx,
  id: string,
  key: string | undefined,
): Promise<[HeadState, number | null]> {
  const reads = [
    ctx.get<HeadState>(KEYS.head),
    ...(key === undefined ? [] : [ctx.get<number>(KEYS.idempotency(key))]),
  ];
  const [head = null, pos = null] = await restate.RestatePromise.all(
    reads as restate.RestatePromise<HeadState | number | null>[],
  );
  if (head === null) await readHead(ctx, id); // throws SESSION_NOT_FOUND
  return [head as HeadState, pos as number | null];
}

/** The message stored at `pos` under the caller's idempotency key, or null; IDEMPOTENCY_CONFLICT for another one. */
async function storedAt(
  ctx: Ctx,
  id: string,
  input: MessageInput,
  pos: number | null,
): Promise<Message | null> {
  if (input.idempotencyKey === undefined || pos === null) return null;
  const stored = await ctx.get<StoredMessage>(KEYS.message(pos));
  if (stored === null) return null;
  if (!sameMessage(stored.m, input)) throw conflictError(id, input.idempotencyKey, stored.m);
  return stored.m;
}

/**
 * Tokens of the next request as the threshold counts them: the fixed parts as last counted and the
 * live messages (internal ones included, which requests leave out: the object starts a compaction
 * early rather than late), correction 1 (the object learns none).
 */
function requestTokensOf(head: HeadState, limits: Limits): number {
  const live = head.tokens - head.archivedTokens;
  return requestTokens((head.fixedTokens ?? 0) + live, 1, limits.replyReserveTokens);
}

/**
 * The description's and the context's tokens as counted, to tell whether they alone, with the
 * reply's room, reach the threshold (`thresholdOutOfReach`). Read only at the threshold: the head's
 * `fixedTokens` holds the checkpoint too.
 */
async function fixedPartsOf(ctx: Ctx): Promise<FixedPartsTokens> {
  const counts = await ctx.get<SessionCounts>(KEYS.counts);
  return { descriptionTokens: counts?.description?.tokens ?? 0, contextTokens: counts?.context?.tokens ?? 0 };
}

/**
 * Validates, counts, numbers and stores one message; starts a compaction at the threshold; publishes
 * `session.message.appended`. Returns the stored message's fields (all but content and metadata).
 */
export async function addMessage(ctx: Ctx, id: string, call: AddMessageCall): Promise<AddMessageAnswer> {
  // Validated before the reads (the client validated it too), so that the key is known for them.
  const valid = validateMessageInput(call.input, { maxBytes: MAX_MESSAGE_BYTES });
  const input = call.replyTo === undefined ? valid : { ...valid, idempotencyKey: replyKeyOf(call.replyTo) };
  const [head, pos] = await headAndKey(ctx, id, input.idempotencyKey);
  await assertWritable(ctx, id, head);
  const repeat = await storedAt(ctx, id, input, pos);
  if (repeat !== null) {
    const { content: _c, metadata: _m, ...fields } = repeat;
    return { ...fields, stored: 'repeat' };
  }
  const tokens = estimatorOf().estimateMessage(input);
  const message: Message = {
    id: call.id,
    seq: Math.max(head.lastSeq, head.archivedThroughSeq) + 1,
    role: input.role,
    content: input.content,
    timestamp: input.timestamp ?? call.timestamp,
    tokens,
    ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
  };
  // The head read once: every further lazy read of it would be one more round trip to the server.
  const after = writeMessages(ctx, id, head, [message]);
  if (input.idempotencyKey !== undefined) ctx.set(KEYS.idempotency(input.idempotencyKey), head.count);
  const liveTokens = after.tokens - after.archivedTokens;
  const events = call.feed === null ? [] : [appendedEvent(id, message, liveTokens)];
  const due = after.compaction == null && requestTokensOf(after, call.limits) >= thresholdOf(call.limits);
  const parts = due ? await fixedPartsOf(ctx) : null;
  const hopeless = parts === null ? null : hopelessFailureOf(id, parts, 1, call.limits);
  // None is started when no compaction can help (requests say REQUEST_TOO_LARGE); the feed is told
  // so as the in-process runtime tells it, with the append's event, once for the same figures.
  if (parts !== null && hopeless !== null && call.feed !== null) {
    const mark = hopelessMark(parts, call.limits);
    if (after.hopeless !== mark) {
      ctx.set(KEYS.head, { ...after, hopeless: mark } satisfies HeadState);
      events.push(hopelessEvent(id, hopeless, message.timestamp));
    }
  }
  // The append's event goes before the compaction's (the workflow publishes its own).
  publish(ctx, call, events);
  if (parts !== null && hopeless === null)
    startCompaction(ctx, after, { ...call, trigger: 'threshold' }, `auto-${message.id}`);
  const { content: _c, metadata: _m, ...fields } = message;
  return { ...fields, stored: 'new' };
}

function appendedEvent(id: string, message: Message, liveTokens: number): SessionEvent {
  return { type: 'session.message.appended', sessionId: id, at: message.timestamp, message, liveTokens };
}

/** One-way: the feed object runs it after this handler, and the caller does not wait for it. */
export function publish(
  ctx: Ctx,
  call: Pick<AddMessageCall, 'feed' | 'origin'>,
  events: SessionEvent[],
): void {
  if (call.feed === null || events.length === 0) return;
  ctx.objectSendClient(sessionEvents, call.feed).publish({ origin: call.origin, events });
}

/** What starts a compaction: the limits, who asked, and where its events go. */
export interface CompactionStart extends Pick<AddMessageCall, 'limits' | 'feed' | 'origin'> {
  trigger: 'threshold' | 'manual';
  keepRecentTokens?: number;
}

/** Marks the compaction in the head and submits its workflow (run once per id, fact 6). */
function startCompaction(ctx: Ctx, head: HeadState, start: CompactionStart, compactionId: string): void {
  ctx.set(KEYS.head, { ...head, compaction: { id: compactionId } } satisfies HeadState);
  // By name: the workflow module imports this object's, and the name is the served default.
  type Run = { run: (ctx: restate.WorkflowContext, request: unknown) => Promise<unknown> };
  const workflow = { name: COMPACTION_WORKFLOW } as restate.WorkflowDefinition<string, Run>;
  ctx.workflowSendClient(workflow, `${ctx.key}:${compactionId}`).run({
    session: ctx.key,
    compactionId,
    limits: start.limits,
    trigger: start.trigger,
    ...(start.keepRecentTokens === undefined ? {} : { keepRecentTokens: start.keepRecentTokens }),
    feed: start.feed,
    origin: start.origin,
  });
}

/**
 * `compact`: joins the compaction running for the session, or starts one named `compactionId`.
 * Returns the id of the compaction to wait for (its workflow is `<object key>:<id>`).
 */
export async function requestCompaction(
  ctx: Ctx,
  id: string,
  args: CompactionStart & { compactionId: string },
): Promise<string> {
  const head = await readHead(ctx, id);
  await assertWritable(ctx, id, head);
  if (head.compaction != null) return head.compaction.id;
  const { compactionId, ...start } = args;
  startCompaction(ctx, head, start, compactionId);
  return compactionId;
}

/** Ends the object's compaction `compactionId` (committed or not): the next threshold may start another. */
export async function compactionEnded(ctx: Ctx, id: string, compactionId: string): Promise<void> {
  const head = await readHead(ctx, id);
  if (head.compaction?.id !== compactionId) return;
  ctx.set(KEYS.head, { ...head, compaction: null } satisfies HeadState);
}
