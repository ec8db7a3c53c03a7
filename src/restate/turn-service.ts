/**
 * A conversation turn on Restate (`sessionTurn.send`, key = the session object's key): append the
 * user message, build the request with the project's `buildRequest` from what the session object
 * holds (past the threshold, after the session's compaction workflow: the one running, or one the
 * object starts), call the model as one durable step (`ctx.run`: its answer journaled once
 * complete, so a crash after it never calls the model again), and append the reply as the API
 * returned it. `sessionTurn` is a virtual object keyed by session: two turns on one session run one
 * after the other, each whole (user message, reply), while appends go on beside them. The appends
 * are calls of the object's exclusive `addMessage` (validated, counted and numbered there, its
 * event published, the threshold's compaction started), journaled too: a retried turn appends
 * each message once. With an idempotency key the turn is stored under it, as the runtime's
 * `send` does: a retry with the key finds the reply stored and does not call the model.
 */
import type Anthropic from '@anthropic-ai/sdk';
import * as restate from '@restatedev/restate-sdk';
import { loadAnthropicSdk } from '../compaction/anthropic-sdk.js';
import { translateTurnError } from '../compaction/anthropic-errors.js';
import { SessionError } from '../core/errors.js';
import { thresholdOutOfReach } from '../core/fixed-parts-room.js';
import type { ContentBlock, Limits, Message, MessageInput } from '../core/types.js';
import { thresholdOf } from '../../machines/session.machine.js';
import { buildRequestOffThread } from '../request/build-request-async.js';
import { storedCountOf } from '../runtime/fixed-counts.js';
import { replayedFigures, type TurnUsage } from '../runtime/conversation.js';
import { replyKeyOf } from '../runtime/idempotency.js';
import { defaultLimits, resolveLimits } from '../runtime/limits.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import { unwrap } from './restate-session-store.js';
import { terminal } from './terminal.js';
import type { LoadedState, MessagePage } from './session-reads.js';
import { COMPACTION_WORKFLOW, type AddMessageAnswer, type AddMessageCall } from './session-append.js';
import { sessionIdOf, sessionObject } from './session-object.js';
import type { Outcome } from './session-state.js';

ensurePromiseWithResolvers();

/** What a turn is asked (the session is the object's key). */
export interface TurnRequest {
  content: string | ContentBlock[];
  model?: string;
  /** `max_tokens` of the reply; default the limits' `replyReserveTokens`. */
  maxTokens?: number;
  limits?: Partial<Limits>;
  /** Prompt-caching breakpoints on the request's stable prefix (default true). */
  cache?: boolean;
  /**
   * Stores the user message under this key and the reply under `<key>/reply`: a retry with the
   * key finds them and does not call the model again (`replayed`); another message under the key
   * is `IDEMPOTENCY_CONFLICT`.
   */
  idempotencyKey?: string;
  /** The event feed (namespace) the appends and a compaction publish to; none by default. */
  feed?: string | null;
  /** Names the publisher in the feed (default `sessionTurn`). */
  origin?: string;
}

/** The tokens of a turn, as the API reported them (the runtime's own type). */
export type { TurnUsage };

/** What a turn did. */
export interface TurnResult {
  user: Message;
  reply: Message;
  usage: TurnUsage;
  request: { totalTokens: number; omittedMessages: number; compacted: boolean };
  /** Why the compaction the request needed failed (its messages were left out instead), or null. */
  compactionError: { code: string; message: string } | null;
  /** True when an earlier turn with the same `idempotencyKey` stored this reply: no model call was made. */
  replayed: boolean;
}

/** Options of {@link createTurnService}. */
export interface TurnServiceOptions {
  /** The Anthropic client (default: one from `ANTHROPIC_API_KEY` / `ANTHROPIC_BASE_URL`). */
  client?: () => Anthropic | Promise<Anthropic>;
  /** Default model. */
  model?: string;
  estimator?: () => TokenEstimator;
  /** Test hooks: `afterModel` runs after the model step and may throw, as a crash there would. */
  hooks?: { afterModel?(): void };
}

const DEFAULT_MODEL = 'claude-sonnet-4-5';
/** Attempts of the model step when the API is unavailable (429, 529, 5xx, connection), then `MODEL_UNAVAILABLE`. */
const MODEL_ATTEMPTS = 4;

/**
 * Creates the `sessionTurn` object (key = the session object's key).
 *
 * @param options - the model client, default model and estimator.
 * @returns the object definition, to serve beside `sessionObject`.
 * @example
 * ```ts
 * await serveRestateEndpoint({ services: [sessionObject, sessionDirectory, createTurnService()] });
 * const turn = await ingress.objectClient({ name: 'sessionTurn' }, id).send({ content: 'Next?' });
 * ```
 */
export function createTurnService(options: TurnServiceOptions = {}) {
  let estimator: TokenEstimator | undefined;
  let client: Promise<Anthropic> | undefined;
  const clientOf = () =>
    (client ??= Promise.resolve(
      options.client?.() ?? loadAnthropicSdk().then(({ default: Sdk }) => new Sdk()),
    ));
  return restate.object({
    name: 'sessionTurn',
    handlers: {
      send: restate.handlers.object.exclusive(
        // Its journal holds the request and the reply: keep none once done.
        { journalRetention: 0 },
        async (ctx: restate.ObjectContext, turn: TurnRequest): Promise<TurnResult> =>
          terminal(() => sendTurn(ctx, turn)),
      ),
    },
    options: { enableLazyState: true },
  });

  async function sendTurn(ctx: restate.ObjectContext, turn: TurnRequest): Promise<TurnResult> {
    const tokens = (estimator ??= options.estimator?.() ?? createTokenEstimator());
    const session = ctx.key;
    const object = ctx.objectClient(sessionObject, session);
    const limits = resolveLimits(turn.limits, defaultLimits());
    const key = turn.idempotencyKey;
    const append = async (input: MessageInput, replyTo?: string): Promise<Message> => {
      const call: AddMessageCall = {
        input,
        id: `msg_${ctx.rand.uuidv4()}`,
        timestamp: new Date(await ctx.date.now()).toISOString(),
        limits,
        feed: turn.feed ?? null,
        origin: turn.origin ?? 'sessionTurn',
        ...(replyTo === undefined ? {} : { replyTo }),
      };
      const { stored: _stored, ...fields } = unwrap(
        (await object.addMessage(call)) as Outcome<AddMessageAnswer>,
      );
      return {
        ...fields,
        content: input.content,
        ...(input.metadata ? { metadata: input.metadata } : {}),
      } as Message;
    };
    const user = await append({
      role: 'user',
      content: turn.content,
      ...(key === undefined ? {} : { idempotencyKey: key }),
    });
    if (key !== undefined) {
      const stored = unwrap((await object.messageByKey(replyKeyOf(key))) as Outcome<Message | null>);
      if (stored !== null) return replayed(user, stored);
    }
    const build = async () => {
      const loaded = unwrap((await object.load({})) as Outcome<LoadedState>);
      const live = [...loaded.live.messages];
      for (let more = loaded.live.more; more;) {
        const after = live[live.length - 1]!.seq;
        const page = unwrap(
          (await object.live({ after, lastSeq: loaded.head.lastSeq })) as Outcome<MessagePage>,
        );
        live.push(...page.messages);
        more = page.more && page.messages.length > 0;
      }
      // A long description or context: its persisted count, or counted on the worker, not here.
      return buildRequestOffThread(
        {
          agentDescription: loaded.agentDescription,
          context: loaded.context,
          checkpoint: loaded.checkpoint,
          messages: live,
          userMessage: null,
          format: 'messages',
          limits,
          estimator: tokens,
          cache: turn.cache !== false,
        },
        storedCountOf(tokens, loaded, loaded.counts),
      );
    };
    let request = await build();
    let compactionError: { code: string; message: string } | null = null;
    let compacted = false;
    const { agentDescription, context } = request.breakdown;
    if (
      (!request.fits || request.totalTokens >= thresholdOf(limits)) &&
      !thresholdOutOfReach(agentDescription + context, 1, limits)
    ) {
      // As in-process: past the threshold, the session's compaction first (the one running, or a
      // new one through the object); a failed one leaves messages out of this request instead.
      // None when the description and context alone reach the threshold (thresholdOutOfReach):
      // messages are left out while the request fits, REQUEST_TOO_LARGE below past maxTokens.
      compactionError = await compactFirst(ctx, turn, limits);
      compacted = compactionError === null;
      request = await build();
    }
    if (!request.fits) {
      throw new SessionError(
        'REQUEST_TOO_LARGE',
        'runtime',
        `session ${sessionIdOf(session)}: the request does not fit ${limits.maxTokens} tokens even with every ` +
          'message left out; shorten the agent description, the context or the user message, or raise maxTokens',
      );
    }
    const model = turn.model ?? options.model ?? DEFAULT_MODEL;
    const reply = await modelStep(ctx, sessionIdOf(session), () =>
      clientOf().then((sdk) =>
        sdk.messages.create({
          model,
          max_tokens: turn.maxTokens ?? limits.replyReserveTokens,
          ...(request.system.length === 0 ? {} : { system: request.system }),
          messages: request.messages,
        } as Anthropic.MessageCreateParamsNonStreaming),
      ),
    );
    options.hooks?.afterModel?.();
    const stored = await append(
      {
        role: 'assistant',
        content: reply.content.length === 0 ? '' : reply.content,
        metadata: {
          model: reply.model,
          stopReason: reply.stopReason,
          usage: reply.usage,
          requestTokens: request.totalTokens,
          omittedMessages: request.omittedMessages,
          ...(compacted ? { compacted: true } : {}),
        },
      },
      key,
    );
    return {
      user,
      reply: stored,
      usage: reply.usage,
      request: { totalTokens: request.totalTokens, omittedMessages: request.omittedMessages, compacted },
      compactionError,
      replayed: false,
    };
  }
}

/** What the model step journals: the reply as the API returned it, and its usage. */
interface ModelReply {
  content: ContentBlock[];
  model: string;
  stopReason: string | null;
  usage: TurnUsage;
}

/**
 * The model call as one durable step. An unavailable API (429, 529, 5xx, a lost connection) is
 * tried {@link MODEL_ATTEMPTS} times with Restate's backoff, then `MODEL_UNAVAILABLE`; any other
 * failure is `MODEL_FAILED` at once. Either ends the turn with the user message kept.
 */
async function modelStep(
  ctx: restate.ObjectContext,
  id: string,
  call: () => Promise<Anthropic.Message>,
): Promise<ModelReply> {
  try {
    return await ctx.run(
      'model call',
      async (): Promise<ModelReply> => {
        let answer: Anthropic.Message;
        try {
          answer = await call();
        } catch (error) {
          const failure = translateTurnError(error, id);
          if (failure.retryable) throw failure;
          throw new restate.TerminalError(failure.message, {
            errorCode: 502,
            metadata: { code: failure.code },
          });
        }
        const usage = answer.usage;
        return {
          content: answer.content as ContentBlock[],
          model: answer.model,
          stopReason: answer.stop_reason,
          usage: {
            inputTokens: usage.input_tokens,
            outputTokens: usage.output_tokens,
            cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
            cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
          },
        };
      },
      { maxRetryAttempts: MODEL_ATTEMPTS },
    );
  } catch (error) {
    // Retries spent: the last failure, as the terminal error of the unavailable model.
    if (error instanceof restate.TerminalError && error.metadata?.['code'] === undefined)
      throw new restate.TerminalError(error.message, {
        errorCode: 503,
        metadata: { code: 'MODEL_UNAVAILABLE' },
      });
    throw error;
  }
}

/** A turn whose reply an earlier turn with the same key stored, from the reply's metadata. */
function replayed(user: Message, reply: Message): TurnResult {
  return { user, reply, ...replayedFigures(reply), compactionError: null, replayed: true };
}

/** Waits for the session's compaction (joined or started through the object); its error, or null. */
async function compactFirst(
  ctx: restate.ObjectContext,
  turn: TurnRequest,
  limits: Limits,
): Promise<{ code: string; message: string } | null> {
  const object = ctx.objectClient(sessionObject, ctx.key);
  const started = (await object.compact({
    compactionId: `turn-${ctx.rand.uuidv4()}`,
    limits,
    trigger: 'manual',
    feed: turn.feed ?? null,
    origin: turn.origin ?? 'sessionTurn',
  })) as Outcome<string>;
  if (!started.ok) return { code: started.error.code, message: started.error.message };
  const outcome = await ctx.workflowClient(COMPACTION, `${ctx.key}:${started.value}`).result();
  return outcome.ok ? null : { code: outcome.error.code, message: outcome.error.message };
}

/** The compaction workflow by name (the object starts it under this name). */
const COMPACTION = { name: COMPACTION_WORKFLOW } as restate.WorkflowDefinition<
  string,
  {
    run: (ctx: restate.WorkflowContext, request: unknown) => Promise<unknown>;
    result: (ctx: restate.WorkflowSharedContext) => Promise<Outcome<unknown>>;
  }
>;
