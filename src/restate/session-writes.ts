/**
 * @internal The exclusive handlers of the `session` object: the writes of the store contract on
 * the layout of session-state.ts. Each validates everything before its first write (a terminal
 * failure does not take writes back: docs/restate.md, fact 1), writes new keys first and `head`
 * last. A handler cut by a crash is retried by Restate and replays its journal, so it finishes.
 * The commit's handler is in session-commit.ts.
 */
import type * as restate from '@restatedev/restate-sdk';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { emptyCheckpoint } from '../compaction/run-clear.js';
import { SessionError } from '../core/errors.js';
import type {
  AgentDescription,
  CheckResult,
  Checkpoint,
  Limits,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import {
  countOfText,
  countPart,
  estimateTextAsync,
  fixedTokensOf as storedTokensOf,
  textOf,
} from '../runtime/fixed-counts.js';
import { countFixedPartsFit } from '../runtime/fixed-parts-check.js';
import { isInternalMessage } from '../core/request-size.js';
import { initialCheckpointProblem, messagesProblem } from '../store/archive-rules.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import type { InitialFiles, SessionCounts } from '../store/contract.js';
import { assertMessageSize } from './limits.js';
import { currentCheckpoint, readHead, type StoredMessage } from './session-reads.js';
import { KEYS, newHead, type HeadState } from './session-state.js';

type Ctx = restate.ObjectContext;

/** @internal The counts of a session whose parts were never counted. */
export const NO_COUNTS: SessionCounts = { description: null, context: null, checkpoint: null };

/** @internal A refusal of a write, naming the session: nothing was written. */
export function invalid(
  id: string,
  message: string,
  code: 'INVALID_ARGUMENT' | 'INVALID_MESSAGE' = 'INVALID_ARGUMENT',
) {
  return new SessionError(code, 'store', `session ${id}: ${message}; nothing was written`);
}

/** @internal Refuses a checkpoint a load would reject. */
export function assertCheckpoint(id: string, checkpoint: Checkpoint): void {
  const problems = checkpointProblems(checkpoint);
  if (problems.length > 0)
    throw invalid(id, `refusing a checkpoint that could not be loaded again (${problems.join('; ')})`);
}

let estimator: TokenEstimator | undefined;
/** The counter of this process (cl100k_base, loaded on first use): the same counts as the runtime's default. */
export const estimatorOf = (): TokenEstimator => (estimator ??= createTokenEstimator());

/** @internal Refuses a change to an archived session. */
export function archivedError(id: string): SessionError {
  return new SessionError(
    'SESSION_ARCHIVED',
    'runtime',
    `session ${id} is archived: it can be read and exported, not changed; create a new session for new work`,
    { details: { sessionId: id } },
  );
}

/** @internal Throws SESSION_ARCHIVED for an archived session. */
export async function assertWritable(ctx: Ctx, id: string, head: HeadState): Promise<void> {
  // Heads written before `archived` was kept read the record once.
  const archived = head.archived ?? (await ctx.get<SessionRecord>(KEYS.record))?.status === 'archived';
  if (archived) throw archivedError(id);
}

/** @internal The head one version on. */
export function bump(head: HeadState): HeadState {
  return { ...head, version: head.version + 1 };
}

/** Creates the session; refuses one that exists. */
export async function createSession(
  ctx: Ctx,
  args: { record: SessionRecord; files?: InitialFiles },
): Promise<void> {
  const { record, files = {} } = args;
  if ((await ctx.get<HeadState>(KEYS.head)) !== null) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'store',
      `session ${record.id} exists already; load it instead`,
      {
        details: { sessionId: record.id, exists: true },
      },
    );
  }
  if (files.checkpoint) {
    assertCheckpoint(record.id, files.checkpoint);
    const problem = initialCheckpointProblem(files.checkpoint);
    if (problem !== null) throw invalid(record.id, problem);
  }
  ctx.set(KEYS.record, record);
  ctx.set(KEYS.context, files.context ?? null);
  ctx.set(KEYS.description, files.agentDescription ?? null);
  ctx.set(KEYS.counts, { ...NO_COUNTS, ...files.counts });
  if (files.checkpoint) ctx.set(KEYS.version(files.checkpoint.version), files.checkpoint);
  ctx.set(KEYS.head, {
    ...newHead(files.checkpoint?.version ?? null),
    archived: record.status === 'archived',
    fixedTokens: fixedTokensOf({ ...NO_COUNTS, ...files.counts }),
  });
}

/** Appends messages after the last one, each in its own key; returns the new last seq. */
export async function appendMessages(ctx: Ctx, id: string, messages: readonly Message[]): Promise<number> {
  return writeMessages(ctx, id, await readHead(ctx, id), messages).lastSeq;
}

/**
 * Appends messages after the last one of `head` (the head as the caller read it in this invocation),
 * each in its own key; returns the head as written. It takes the head rather than reading it, since
 * a lazy state read is a round trip to the server each time, even of a key read before in the same
 * invocation (a read after a write is served from the invocation's own copy).
 */
export function writeMessages(
  ctx: Ctx,
  id: string,
  head: HeadState,
  messages: readonly Message[],
): HeadState {
  const problem = messagesProblem(messages);
  if (problem !== null) throw invalid(id, problem.problem, 'INVALID_MESSAGE');
  for (const message of messages) assertMessageSize(id, message);
  if (messages.length === 0) return head;
  if (!(messages[0]!.seq > head.lastSeq)) {
    throw new SessionError(
      'INVALID_MESSAGE',
      'store',
      `message seq ${messages[0]!.seq} does not follow seq ${head.lastSeq}; appends must be in order`,
    );
  }
  let cumulative = head.tokens;
  // Internal tokens are summed only in heads that sum them from the start (newHead).
  let internal = head.internalTokens;
  messages.forEach((message, i) => {
    cumulative += message.tokens;
    if (internal !== undefined && isInternalMessage(message)) internal += message.tokens;
    const stored: StoredMessage = {
      m: message,
      cum: cumulative,
      ...(internal === undefined ? {} : { icum: internal }),
    };
    ctx.set(KEYS.message(head.count + i), stored);
  });
  const lastSeq = messages[messages.length - 1]!.seq;
  const written: HeadState = {
    ...bump(head),
    count: head.count + messages.length,
    lastSeq,
    tokens: cumulative,
    ...(internal === undefined ? {} : { internalTokens: internal }),
  };
  ctx.set(KEYS.head, written);
  return written;
}

/** Records checks in the current checkpoint (a version-0 one when there is none). */
export async function recordChecks(
  ctx: Ctx,
  id: string,
  args: { checks: readonly CheckResult[]; now: string },
): Promise<Checkpoint> {
  const head = await readHead(ctx, id);
  const current = (await currentCheckpoint(ctx, head)) ?? emptyCheckpoint(args.now);
  const byId = new Map((current.checks ?? []).map((c) => [c.checkId, c]));
  for (const check of args.checks) byId.set(check.checkId, { ...check, at: check.at ?? args.now });
  const next: Checkpoint = { ...current, updatedAt: args.now, checks: [...byId.values()] };
  assertCheckpoint(id, next);
  const known = head.versions.includes(next.version);
  // The version's copy keeps what its commit wrote; the current checks live beside it.
  if (!known) ctx.set(KEYS.version(next.version), next);
  ctx.set(KEYS.current(next.version), next);
  ctx.set(KEYS.head, { ...bump(head), versions: known ? head.versions : [...head.versions, next.version] });
  return next;
}

/**
 * `recordChecks` of the session client: refused for an archived session, and the checkpoint's
 * count refreshed with the checks in the same write, so that two clients recording at once end
 * with both their checks and the count of the checkpoint that holds them.
 */
export async function recordChecksCounted(
  ctx: Ctx,
  id: string,
  args: { checks: readonly CheckResult[]; now: string },
): Promise<Checkpoint> {
  await assertWritable(ctx, id, await readHead(ctx, id));
  const next = await recordChecks(ctx, id, args);
  const counts: SessionCounts = {
    ...((await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS),
    checkpoint: countPart(estimatorOf(), 'checkpoint', next),
  };
  ctx.set(KEYS.counts, counts);
  // The head as recordChecks wrote it (an invocation reads its own writes), with the new count.
  const head = (await ctx.get<HeadState>(KEYS.head))!;
  ctx.set(KEYS.head, { ...head, fixedTokens: fixedTokensOf(counts) });
  return next;
}

/** Replaces one of the small keys (context, description, record, counts). */
export async function writePart(
  ctx: Ctx,
  id: string,
  part: 'context' | 'description' | 'record' | 'counts',
  value: SessionContext | AgentDescription | SessionRecord | Partial<SessionCounts>,
): Promise<void> {
  const head = await readHead(ctx, id);
  if (part === 'counts') {
    const counts = {
      ...((await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS),
      ...(value as Partial<SessionCounts>),
    };
    ctx.set(KEYS.counts, counts);
    ctx.set(KEYS.head, { ...bump(head), fixedTokens: fixedTokensOf(counts) });
    return;
  }
  if (part === 'record') {
    // Archiving is for good: a record written from a copy loaded before `archive` (a client's
    // stats after a clear) keeps the archived status instead of undoing it.
    const record = value as SessionRecord;
    const archived = head.archived === true || record.status === 'archived';
    ctx.set(KEYS.record, archived ? { ...record, status: 'archived' } : record);
    ctx.set(KEYS.head, { ...bump(head), archived });
    return;
  }
  ctx.set(KEYS[part], value);
  ctx.set(KEYS.head, bump(head));
}

/** What `setPart` takes: the new context or description, validated and counted by the client. */
export interface SetPartCall {
  part: 'context' | 'description';
  value: SessionContext | AgentDescription;
  /** The time of the change (the client's clock: a replay writes the same). */
  at: string;
  /**
   * The session's limits as the client resolves them: the handler holds the value to the room
   * they leave the fixed parts (`assertFixedPartsFit`) against the other part as stored now, which
   * no concurrent write can change meanwhile. Absent (a call of an older client), not checked here.
   */
  limits?: Limits;
}

/**
 * Replaces the context or the description and its count in one write (the threshold's
 * `fixedTokens` with it), so that two clients setting it at once end with one value and its own
 * count, never one's value with the other's count. Refused for an archived session, and (with
 * `call.limits`) for a value that would leave the session no room for a conversation.
 */
export async function setPart(ctx: Ctx, id: string, call: SetPartCall): Promise<void> {
  const head = await readHead(ctx, id);
  await assertWritable(ctx, id, head);
  const stored = (await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS;
  // A long text is counted off the main thread, or refused uncounted when too long by far.
  const text = textOf(call.part, call.value);
  const { tokens, fresh } =
    call.limits === undefined
      ? { tokens: await estimateTextAsync(estimatorOf(), text), fresh: {} }
      : await partFits(ctx, id, call, text, stored);
  const count = countOfText(estimatorOf(), text, tokens);
  // The other part's count, when it had none that matched, is kept too: counted once.
  const counts: SessionCounts = { ...stored, ...fresh, [call.part]: count };
  ctx.set(KEYS[call.part], call.value);
  ctx.set(KEYS.counts, counts);
  ctx.set(KEYS.head, { ...bump(head), fixedTokens: fixedTokensOf(counts) });
}

/**
 * The client's fixed-parts check, where it is authoritative: in the object's exclusive handler,
 * against the other part as stored (its count, or counted now when it has none that matches).
 * Returns the tokens of `text`, the new part, and the counts made now of the parts as stored.
 */
async function partFits(
  ctx: Ctx,
  id: string,
  call: SetPartCall,
  text: string,
  stored: SessionCounts,
): Promise<{ tokens: number; fresh: Partial<SessionCounts> }> {
  const agentDescription = await ctx.get<AgentDescription>(KEYS.description);
  const context = await ctx.get<SessionContext>(KEYS.context);
  const now = await storedTokensOf(estimatorOf(), { agentDescription, context, checkpoint: null }, stored);
  const description = call.part === 'description';
  const tokens = await countFixedPartsFit(estimatorOf(), {
    where: description ? `setAgentDescription(${id})` : `setContext(${id})`,
    part: description ? 'agentDescription' : 'context',
    description: description ? text : now.description,
    context: description ? now.context : text,
    before: now.description + now.context,
    limits: call.limits!,
    correction: 1,
  });
  return { tokens: description ? tokens.descriptionTokens : tokens.contextTokens, fresh: now.fresh };
}

/**
 * Marks the session archived (status and `updatedAt` of its record as stored now, nothing else of
 * it). Returns whether this call archived it: false when it was already.
 */
export async function archiveSession(ctx: Ctx, id: string, at: string): Promise<boolean> {
  const head = await readHead(ctx, id);
  const record = await ctx.get<SessionRecord>(KEYS.record);
  if (record === null) throw new SessionError('SESSION_NOT_FOUND', 'store', `session ${id} has no record`);
  if (record.status === 'archived' && head.archived !== false) return false;
  ctx.set(KEYS.record, { ...record, status: 'archived', updatedAt: at } satisfies SessionRecord);
  ctx.set(KEYS.head, { ...bump(head), archived: true });
  return true;
}

/** @internal The tokens of the fixed parts as counted (0 for a part not counted yet): the append threshold's share. */
export function fixedTokensOf(counts: SessionCounts): number {
  return (counts.description?.tokens ?? 0) + (counts.context?.tokens ?? 0) + (counts.checkpoint?.tokens ?? 0);
}

/** Appends messages numbered here, after the last one (a turn's messages); returns them as stored. */
export async function appendNumbered(
  ctx: Ctx,
  id: string,
  inputs: readonly Omit<Message, 'seq'>[],
): Promise<Message[]> {
  const head = await readHead(ctx, id);
  const first = Math.max(head.lastSeq, head.archivedThroughSeq) + 1;
  const messages = inputs.map((input, i) => ({ ...input, seq: first + i }) as Message);
  writeMessages(ctx, id, head, messages);
  return messages;
}
