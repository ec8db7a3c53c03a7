/**
 * The compaction of a session as a durable Restate workflow, so that it never holds the session
 * object: appends go on while it folds. It reads the session through the object's shared `load`
 * (the live messages up to the last seq are its watermark), folds them with the project's
 * `runCompaction` (plan, ledger, chunks, escalation: the same rules as in-process), each
 * compactor call a durable step (`ctx.run`: a model call whose answer is journaled, re-run only
 * when it had not completed), and ends with one call of the object's exclusive `commit`, named by
 * the compaction id: a commit of the same id twice changes nothing (fact 5: a step can run twice).
 * One run per workflow id (`<session key>:<compaction id>`, fact 6).
 */
import * as restate from '@restatedev/restate-sdk';
import type { CompactOutput } from '../../machines/session.machine.js';
import type { Compactor } from '../compaction/compactor.js';
import { OfflineCompactor } from '../compaction/offline-compactor.js';
import { runCompaction } from '../compaction/run-compaction.js';
import type { ArchiveSegment, Checkpoint, CheckpointSummary, Limits, Message } from '../core/types.js';
import { countedTokens } from '../core/request-size.js';
import type { SessionEvent } from '../runtime/events.js';
import { fixedTokensOf } from '../runtime/fixed-counts.js';
import { defaultLimits, resolveLimits } from '../runtime/limits.js';
import type { CommitResult } from '../store/contract.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import { unwrap } from './restate-session-store.js';
import { terminal } from './terminal.js';
import type { LoadedState, MessagePage } from './session-reads.js';
import { sessionEvents } from './event-feed.js';
import { sessionIdOf, sessionObject } from './session-object.js';
import type { CommitCall, Outcome } from './session-state.js';

ensurePromiseWithResolvers();

/** What a compaction is asked. */
export interface CompactionRequest {
  /** The session object's key (the session id, or `<namespace>/<id>`). */
  session: string;
  /** Names the compaction (and its commit). */
  compactionId: string;
  limits?: Partial<Limits>;
  /** The verbatim tail to keep, as a caller of `compact` may ask. */
  keepRecentTokens?: number;
  /** Who asked: the object at its threshold, or a caller of `compact` (default `manual`). */
  trigger?: 'threshold' | 'manual';
  /** The event feed (namespace) to publish the compaction's events to; none when absent or null. */
  feed?: string | null;
  /** Names the publisher in the feed. */
  origin?: string;
}

/** What a compaction did: the project's `CompactOutput`, and whether this run's commit was a repeat. */
export type CompactionResult = Omit<CompactOutput, 'durationMs'> & { committed: boolean };

/** Options of {@link createCompactionWorkflow}. */
export interface CompactionWorkflowOptions {
  /** The compactor of a session (default: `OfflineCompactor`, deterministic, no network). */
  compactor?: (request: CompactionRequest) => Compactor;
  /** The estimator (default: tiktoken, loaded once per process). */
  estimator?: () => TokenEstimator;
  /** The workflow's name; default `compaction`. */
  name?: string;
}

/** A compactor whose every call is a durable step: journaled once completed, so never re-run after. */
function durableCompactor(ctx: restate.WorkflowContext, inner: Compactor): Compactor {
  let chunk = 0;
  return {
    name: inner.name,
    maxInputTokens: inner.maxInputTokens,
    compact: (input, options) =>
      ctx.run(`chunk ${++chunk}`, (): Promise<CheckpointSummary> => inner.compact(input, options)),
  };
}

async function loadAll(ctx: restate.WorkflowContext, key: string): Promise<LoadedState> {
  const object = ctx.objectClient(sessionObject, key);
  const loaded = unwrap((await object.load({})) as Outcome<LoadedState>);
  const messages = [...loaded.live.messages];
  let more = loaded.live.more;
  while (more) {
    const after = messages[messages.length - 1]!.seq;
    const page = unwrap((await object.live({ after, lastSeq: loaded.head.lastSeq })) as Outcome<MessagePage>);
    messages.push(...page.messages);
    more = page.more && page.messages.length > 0;
  }
  return { ...loaded, live: { messages, more: false } };
}

/**
 * Creates the compaction workflow.
 *
 * @param options - the compactor and estimator to fold with; the workflow's name.
 * @returns the workflow definition, to serve beside `sessionObject`.
 * @example
 * ```ts
 * const compaction = createCompactionWorkflow({ compactor: () => new AnthropicCompactor({ model }) });
 * await serveRestateEndpoint({ services: [sessionObject, sessionDirectory, compaction] });
 * await ingress
 *   .workflowClient(compaction, 'feature--f1--pm:c1')
 *   .workflowSubmit({ session: 'feature--f1--pm', compactionId: 'c1' });
 * ```
 */
export function createCompactionWorkflow(options: CompactionWorkflowOptions = {}) {
  let estimator: TokenEstimator | undefined;
  const estimatorOf = () => (estimator ??= options.estimator?.() ?? createTokenEstimator());
  return restate.workflow({
    name: options.name ?? 'compaction',
    handlers: {
      run: async (ctx: restate.WorkflowContext, request: CompactionRequest): Promise<CompactionResult> => {
        let result: CompactionResult;
        try {
          result = await terminal(() => compact(ctx, request));
        } catch (error) {
          // Only a terminal failure ends the run (any other error is retried from the journal).
          if (error instanceof restate.TerminalError) {
            publish(ctx, request, failedEvent(request, error, await ctx.date.toJSON()));
            await ended(ctx, request);
            ctx.promise<Outcome<CompactionResult>>(RESULT).resolve(failedOutcome(error));
          }
          throw error;
        }
        // The object hears first that it ended, so that a waiter of `result` (a clear waiting to
        // change the checkpoint) finds the object free when it asks again.
        await ended(ctx, request);
        ctx.promise<Outcome<CompactionResult>>(RESULT).resolve({ ok: true, value: result });
        return result;
      },
      /**
       * The run's outcome, once it ends (a shared handler: any number of callers wait beside the
       * run, from a handler too, where attaching to the run is not possible by its id alone).
       */
      result: restate.handlers.workflow.shared(
        async (ctx: restate.WorkflowSharedContext): Promise<Outcome<CompactionResult>> =>
          ctx.promise<Outcome<CompactionResult>>(RESULT).get(),
      ),
    },
    // Its journal holds message text (the load's answer, the chunks' summaries): keep none once done.
    options: { journalRetention: 0, workflowRetention: { hours: 1 } },
  });

  async function compact(
    ctx: restate.WorkflowContext,
    request: CompactionRequest,
  ): Promise<CompactionResult> {
    const started = await ctx.date.now();
    const loaded = await loadAll(ctx, request.session);
    const tokens = estimatorOf();
    const limits = resolveLimits(request.limits, defaultLimits());
    const fixed = await fixedTokensOf(tokens, loaded, loaded.counts);
    const compactor = options.compactor?.(request) ?? new OfflineCompactor();
    publish(ctx, request, {
      type: 'session.compaction.started',
      sessionId: sessionIdOf(request.session),
      at: new Date(started).toISOString(),
      trigger: request.trigger ?? 'manual',
      attempt: 1,
      watermarkSeq: loaded.head.lastSeq,
      tokensBefore:
        fixed.description + fixed.context + fixed.checkpoint + countedTokens(loaded.live.messages),
      compactor: compactor.name,
    });
    let captured: { segment: ArchiveSegment | null; checkpoint: Checkpoint; keepChecks?: boolean } | null =
      null;
    const messages: Message[] = loaded.live.messages;
    const output = await runCompaction(
      {
        dir: {
          messages,
          checkpoint: loaded.checkpoint,
          commit: async (segment, checkpoint, keepChecks) => {
            captured = { segment, checkpoint, ...(keepChecks === undefined ? {} : { keepChecks }) };
          },
        },
        compactor: durableCompactor(ctx, compactor),
        estimator: tokens,
        now: () => new Date(),
        elapsed: () => performance.now(),
      },
      {
        sessionId: request.session,
        watermarkSeq: loaded.head.lastSeq,
        limits,
        keepRecentTokens: request.keepRecentTokens ?? limits.keepRecentTokens,
        ...(request.keepRecentTokens === undefined ? {} : { tailRequested: true }),
        fixedTokens: fixed.description + fixed.context,
        correction: 1,
        attempt: 1,
        trigger: 'manual',
      },
      new AbortController().signal,
    );
    const { durationMs: _duration, ...result } = output;
    if (captured === null) {
      await completed(ctx, request, { ...output, durationMs: (await ctx.date.now()) - started });
      return { ...result, committed: false };
    }
    const made: { segment: ArchiveSegment | null; checkpoint: Checkpoint; keepChecks?: boolean } = captured;
    // Journaled once: a replay of this workflow commits what the first run built, timestamps included.
    const call = await ctx.run('prepare commit', (): CommitCall => ({
      commitId: request.compactionId,
      segment:
        made.segment === null
          ? null
          : {
              segment: made.segment.segment,
              checkpointVersion: made.segment.checkpointVersion,
              createdAt: made.segment.createdAt,
              firstSeq: made.segment.firstSeq,
              lastSeq: made.segment.lastSeq,
              messageCount: made.segment.messages.length,
            },
      checkpoint: made.checkpoint,
      ...(made.keepChecks === undefined ? {} : { keepChecks: made.keepChecks }),
    }));
    const committed = unwrap(
      (await ctx.objectClient(sessionObject, request.session).commit(call)) as Outcome<CommitResult>,
    );
    const done = { ...result, checkpointVersion: committed.checkpoint.version };
    await completed(ctx, request, { ...done, durationMs: (await ctx.date.now()) - started });
    return { ...done, committed: true };
  }
}

/** The durable promise a run resolves with its outcome. */
const RESULT = 'result';

function failedOutcome(error: restate.TerminalError): Outcome<never> {
  const code = error.metadata?.['code'] ?? 'COMPACTOR_FAILED';
  return { ok: false, error: { code, message: error.message, retryable: false, details: {} } };
}

/** Tells the object that its compaction ended, when the object started it (threshold or `compact`). */
async function ended(ctx: restate.WorkflowContext, request: CompactionRequest): Promise<void> {
  if (request.trigger === undefined) return; // submitted by hand, not by the object
  unwrap(
    (await ctx
      .objectClient(sessionObject, request.session)
      .compactionEnded(request.compactionId)) as Outcome<void>,
  );
}

/** One-way, to the feed of the request, if it named one. */
function publish(ctx: restate.WorkflowContext, request: CompactionRequest, event: SessionEvent): void {
  if (request.feed == null) return;
  ctx
    .objectSendClient(sessionEvents, request.feed)
    .publish({ origin: request.origin ?? 'compaction', events: [event] });
}

async function completed(
  ctx: restate.WorkflowContext,
  request: CompactionRequest,
  r: CompactOutput,
): Promise<void> {
  publish(ctx, request, {
    type: 'session.compaction.completed',
    sessionId: sessionIdOf(request.session),
    at: await ctx.date.toJSON(),
    compactor: r.compactor,
    tokensBefore: r.tokensBefore,
    tokensAfter: r.tokensAfter,
    messagesCompacted: r.messagesCompacted,
    durationMs: r.durationMs,
    checkpointVersion: r.checkpointVersion,
    escalation: r.escalation,
    result: r,
  });
}

function failedEvent(request: CompactionRequest, error: restate.TerminalError, at: string): SessionEvent {
  const code = String(
    (error as { metadata?: Record<string, unknown> }).metadata?.['code'] ?? 'COMPACTION_FAILED',
  );
  return {
    type: 'session.compaction.failed',
    sessionId: sessionIdOf(request.session),
    at,
    code,
    reason: error.message,
    retryable: false,
    attempts: 1,
    willRetryInMs: null,
    failure: { code, message: error.message, retryable: false, attempts: 1, noProgress: false },
  };
}

/** The compaction workflow with the offline compactor. */
export const compactionWorkflow = createCompactionWorkflow();
