/**
 * The `session` virtual object: one per session (key = session id, or `<namespace>/<id>`), the
 * store contract on Restate's keyed state. Exclusive handlers are the writes (one at a time per
 * session), shared handlers the reads (beside a running write): the store's, and the runtime's
 * `estimate`, `previewRequest` and `buildRequest` (request-reads.ts). Lazy state, so that an invocation
 * loads only the keys it reads. Handlers that carry message text keep no journal once done
 * (`journalRetention: 0`); their answers are small, since an idempotency key keeps the answer.
 * SessionErrors come back as data ({@link Outcome}), so that the client rethrows them with their code.
 */
import * as restate from '@restatedev/restate-sdk';
import type { AgentDescription, CheckResult, Message, SessionContext, SessionRecord } from '../core/types.js';
import type { ArchiveQuery, InitialFiles, SessionCounts } from '../store/contract.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import type { SessionEvent } from '../runtime/events.js';
import {
  addMessage,
  compactionEnded,
  messageUnderKey,
  publish,
  requestCompaction,
  type AddMessageCall,
  type CompactionStart,
} from './session-append.js';
import { changeCheckpoint, type CheckpointChangeCall } from './checkpoint-writes.js';
import * as reads from './session-reads.js';
import { estimateOf, requestOf, type EstimateCall, type RequestCall } from './request-reads.js';
import { failed, type CommitCall, type Outcome } from './session-state.js';
import { commitSession } from './session-commit.js';
import * as writes from './session-writes.js';

ensurePromiseWithResolvers();

/** The session id of an object key (`<namespace>/<id>` or `<id>`). */
export function sessionIdOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return failed(error);
  }
}

type Ctx = restate.ObjectContext;
type Shared = restate.ObjectSharedContext;
const id = (ctx: Shared | Ctx) => sessionIdOf(ctx.key);
const forget = { journalRetention: 0 } as const;
/** Where a write's event goes: the namespace's feed (null for none) and the publishing client. */
type Publishing = { feed: string | null; origin: string };

/** The directory of sessions of a namespace (key = namespace), for `list()`. */
export const sessionDirectory = restate.object({
  name: 'sessionDirectory',
  handlers: {
    add: async (ctx: Ctx, sessionId: string): Promise<void> => {
      const ids = (await ctx.get<string[]>('ids')) ?? [];
      if (!ids.includes(sessionId)) ctx.set('ids', [...ids, sessionId].sort());
    },
    ids: restate.handlers.object.shared(
      async (ctx: Shared): Promise<string[]> => (await ctx.get<string[]>('ids')) ?? [],
    ),
  },
  options: { enableLazyState: true },
});

/**
 * The session object.
 *
 * @example
 * ```ts
 * const endpoint = await serveRestateEndpoint({ services: [sessionObject, sessionDirectory] });
 * const head = await ingress.objectClient(sessionObject, 'feature--f1--pm').load({});
 * ```
 */
export const sessionObject = restate.object({
  name: 'session',
  handlers: {
    create: restate.handlers.object.exclusive(
      forget,
      async (ctx: Ctx, args: { record: SessionRecord; files?: InitialFiles; namespace: string }) =>
        outcome(async () => {
          await writes.createSession(ctx, args);
          await ctx.objectClient(sessionDirectory, args.namespace).add(args.record.id);
        }),
    ),
    append: restate.handlers.object.exclusive(forget, async (ctx: Ctx, messages: Message[]) =>
      outcome(() => writes.appendMessages(ctx, id(ctx), messages)),
    ),
    /** The write path of `createRestateSessionClient`: validate, count, number, store, compact at the threshold. */
    addMessage: restate.handlers.object.exclusive(forget, async (ctx: Ctx, call: AddMessageCall) =>
      outcome(() => addMessage(ctx, id(ctx), call)),
    ),
    /** `compact`: joins the running compaction or starts one; answers the id to wait for. */
    compact: restate.handlers.object.exclusive(
      async (ctx: Ctx, args: CompactionStart & { compactionId: string }) =>
        outcome(() => requestCompaction(ctx, id(ctx), args)),
    ),
    /** The compaction workflow the object started has ended (committed, nothing to do, or failed). */
    compactionEnded: restate.handlers.object.exclusive(async (ctx: Ctx, compactionId: string) =>
      outcome(() => compactionEnded(ctx, id(ctx), compactionId)),
    ),
    appendNumbered: restate.handlers.object.exclusive(
      forget,
      async (ctx: Ctx, inputs: Omit<Message, 'seq'>[]) =>
        outcome(() => writes.appendNumbered(ctx, id(ctx), inputs)),
    ),
    commit: restate.handlers.object.exclusive(forget, async (ctx: Ctx, call: CommitCall) =>
      outcome(() => commitSession(ctx, id(ctx), call)),
    ),
    /** `setContext` and `setAgentDescription` of the session client: the value and its count in one write. */
    setPart: restate.handlers.object.exclusive(async (ctx: Ctx, call: writes.SetPartCall & Publishing) =>
      outcome(async () => {
        await writes.setPart(ctx, id(ctx), call);
        const what = call.part === 'context' ? 'context' : 'agentDescription';
        publish(ctx, call, [{ type: 'session.context.changed', sessionId: id(ctx), at: call.at, what }]);
      }),
    ),
    /** `archiveSession` of the session client: answers whether this call archived it. */
    archiveSession: restate.handlers.object.exclusive(async (ctx: Ctx, call: { at: string } & Publishing) =>
      outcome(async () => {
        const archived = await writes.archiveSession(ctx, id(ctx), call.at);
        const event: SessionEvent = { type: 'session.archived', sessionId: id(ctx), at: call.at };
        if (archived) publish(ctx, call, [event]);
        return archived;
      }),
    ),
    /** `recordChecks` of the session client: the checks, the checkpoint's count and the event. */
    recordChecksFor: restate.handlers.object.exclusive(
      forget,
      async (ctx: Ctx, call: { checks: CheckResult[]; now: string } & Publishing) =>
        outcome(async () => {
          const checkpoint = await writes.recordChecksCounted(ctx, id(ctx), call);
          const event: SessionEvent = {
            type: 'session.checks.recorded',
            sessionId: id(ctx),
            at: call.now,
            checks: call.checks,
          };
          publish(ctx, call, [event]);
          return checkpoint;
        }),
    ),
    /**
     * `editCheckpoint`, `recordDecision`, `clearMessages` and `reset` of the session client: the
     * change applied to the checkpoint as it is now and committed in one step (checkpoint-writes.ts).
     */
    changeCheckpoint: restate.handlers.object.exclusive(
      forget,
      async (ctx: Ctx, call: CheckpointChangeCall) => outcome(() => changeCheckpoint(ctx, id(ctx), call)),
    ),
    recordChecks: restate.handlers.object.exclusive(
      forget,
      async (ctx: Ctx, args: { checks: CheckResult[]; now: string }) =>
        outcome(() => writes.recordChecks(ctx, id(ctx), args)),
    ),
    writeContext: async (ctx: Ctx, value: SessionContext) =>
      outcome(() => writes.writePart(ctx, id(ctx), 'context', value)),
    writeDescription: async (ctx: Ctx, value: AgentDescription) =>
      outcome(() => writes.writePart(ctx, id(ctx), 'description', value)),
    writeRecord: async (ctx: Ctx, value: SessionRecord) =>
      outcome(() => writes.writePart(ctx, id(ctx), 'record', value)),
    writeCounts: async (ctx: Ctx, value: Partial<SessionCounts>) =>
      outcome(() => writes.writePart(ctx, id(ctx), 'counts', value)),

    /** The id of the compaction workflow the object started and that has not ended, or null. */
    compaction: restate.handlers.object.shared(async (ctx: Shared) =>
      outcome(async () => (await reads.readHead(ctx, id(ctx))).compaction?.id ?? null),
    ),
    /** The message stored under an idempotency key, or null (a turn's reply, for a retried turn). */
    messageByKey: restate.handlers.object.shared(forget, async (ctx: Shared, key: string) =>
      outcome(() => messageUnderKey(ctx, key)),
    ),
    presence: restate.handlers.object.shared(async (ctx: Shared) =>
      outcome(async () => ((await ctx.get(reads.HEAD_KEY)) === null ? 'absent' : 'present')),
    ),
    load: restate.handlers.object.shared(forget, async (ctx: Shared, args: { maxBytes?: number }) =>
      outcome(() => reads.loadSession(ctx, id(ctx), args.maxBytes)),
    ),
    live: restate.handlers.object.shared(
      forget,
      async (ctx: Shared, args: { after: number; lastSeq: number; maxBytes?: number }) =>
        outcome(() => reads.livePage(ctx, id(ctx), args.after, args.lastSeq, args.maxBytes)),
    ),
    archive: restate.handlers.object.shared(
      forget,
      async (ctx: Shared, args: { query: ArchiveQuery; maxBytes?: number }) =>
        outcome(() => reads.archivePage(ctx, id(ctx), args.query, args.maxBytes)),
    ),
    segment: restate.handlers.object.shared(async (ctx: Shared, n: number) =>
      outcome(() => reads.segmentInfo(ctx, id(ctx), n)),
    ),
    checkpoint: restate.handlers.object.shared(async (ctx: Shared, args: { version?: number }) =>
      outcome(() => reads.readCheckpoint(ctx, id(ctx), args.version)),
    ),
    versions: restate.handlers.object.shared(async (ctx: Shared) =>
      outcome(async () => (await reads.readHead(ctx, id(ctx))).versions),
    ),
    summary: restate.handlers.object.shared(async (ctx: Shared) =>
      outcome(() => reads.sessionSummary(ctx, id(ctx))),
    ),
    /** `estimateSize`: from the head's token sums and the small parts, no live message loaded. */
    estimate: restate.handlers.object.shared(async (ctx: Shared, call: EstimateCall) =>
      outcome(() => estimateOf(ctx, id(ctx), call)),
    ),
    /** `previewRequest`: the request as it would be built now, changing nothing. */
    previewRequest: restate.handlers.object.shared(forget, async (ctx: Shared, call: RequestCall) =>
      outcome(() => requestOf(ctx, id(ctx), call, false)),
    ),
    /** `buildRequest` (the client makes room through `compact` first): a user message, never over the limit. */
    buildRequest: restate.handlers.object.shared(forget, async (ctx: Shared, call: RequestCall) =>
      outcome(() => requestOf(ctx, id(ctx), call, true)),
    ),
  },
  options: { enableLazyState: true },
});
