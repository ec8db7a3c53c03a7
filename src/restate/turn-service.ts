/**
 * A conversation turn on Restate (`sessionTurn.send`): append the user message, build the request
 * with the project's `buildRequest` from what the session object holds (past the threshold, after
 * the session's compaction workflow: the one running, or one the object starts), call the model as one
 * durable step (`ctx.run`: its answer journaled once complete, so a crash after it never calls
 * the model again), and append the reply as the API returned it. The appends are calls of the
 * object's exclusive `appendNumbered` (the object numbers them), journaled too: a retried turn
 * appends each message once.
 */
import type Anthropic from '@anthropic-ai/sdk';
import * as restate from '@restatedev/restate-sdk';
import { loadAnthropicSdk } from '../compaction/anthropic-sdk.js';
import type { ContentBlock, Limits, Message } from '../core/types.js';
import { thresholdOf } from '../../machines/session.machine.js';
import { buildRequest } from '../request/build-request.js';
import { defaultLimits, resolveLimits } from '../runtime/limits.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';
import { unwrap } from './restate-session-store.js';
import { terminal } from './terminal.js';
import type { LoadedState, MessagePage } from './session-reads.js';
import { COMPACTION_WORKFLOW } from './session-append.js';
import { sessionObject } from './session-object.js';
import type { Outcome } from './session-state.js';

ensurePromiseWithResolvers();

/** What a turn is asked. */
export interface TurnRequest {
  /** The session object's key (the session id, or `<namespace>/<id>`). */
  session: string;
  content: string | ContentBlock[];
  model?: string;
  /** `max_tokens` of the reply; default the limits' `replyReserveTokens`. */
  maxTokens?: number;
  limits?: Partial<Limits>;
  /** The event feed (namespace) a compaction the turn waits for publishes to; none by default. */
  feed?: string | null;
}

/** What a turn did. */
export interface TurnResult {
  user: Message;
  reply: Message;
  usage: { inputTokens: number; outputTokens: number };
  request: { totalTokens: number; omittedMessages: number };
  /** Why the compaction the request needed failed (its messages were left out instead), or null. */
  compactionError: { code: string; message: string } | null;
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

/**
 * Creates the `sessionTurn` service.
 *
 * @param options - the model client, default model and estimator.
 * @returns the service definition, to serve beside `sessionObject`.
 * @example
 * ```ts
 * await serveRestateEndpoint({ services: [sessionObject, sessionDirectory, createTurnService()] });
 * const turn = await ingress.serviceClient({ name: 'sessionTurn' }).send({ session: id, content: 'Next?' });
 * ```
 */
export function createTurnService(options: TurnServiceOptions = {}) {
  let estimator: TokenEstimator | undefined;
  let client: Promise<Anthropic> | undefined;
  const clientOf = () =>
    (client ??= Promise.resolve(
      options.client?.() ?? loadAnthropicSdk().then(({ default: Sdk }) => new Sdk()),
    ));
  return restate.service({
    name: 'sessionTurn',
    handlers: {
      send: restate.handlers.handler(
        // Its journal holds the request and the reply: keep none once done.
        { journalRetention: 0 },
        async (ctx: restate.Context, turn: TurnRequest): Promise<TurnResult> =>
          terminal(() => sendTurn(ctx, turn)),
      ),
    },
  });

  async function sendTurn(ctx: restate.Context, turn: TurnRequest): Promise<TurnResult> {
    const tokens = (estimator ??= options.estimator?.() ?? createTokenEstimator());
    const object = ctx.objectClient(sessionObject, turn.session);
    const limits = resolveLimits(turn.limits, defaultLimits());
    const at = new Date(await ctx.date.now()).toISOString();
    const [user] = unwrap(
      (await object.appendNumbered([
        {
          id: `msg_${ctx.rand.uuidv4()}`,
          role: 'user',
          content: turn.content,
          timestamp: at,
          tokens: tokens.estimateMessage({ role: 'user', content: turn.content }),
        },
      ])) as Outcome<Message[]>,
    ) as [Message];
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
      return buildRequest({
        agentDescription: loaded.agentDescription,
        context: loaded.context,
        checkpoint: loaded.checkpoint,
        messages: live,
        userMessage: null,
        format: 'messages',
        limits,
        estimator: tokens,
      });
    };
    let request = await build();
    let compactionError: { code: string; message: string } | null = null;
    if (!request.fits || request.totalTokens >= thresholdOf(limits)) {
      // As in-process: past the threshold, the session's compaction first (the one running, or a
      // new one through the object); a failed one leaves messages out of this request instead.
      compactionError = await compactFirst(ctx, turn, limits);
      request = await build();
    }
    if (!request.fits) {
      throw new restate.TerminalError(
        `[dagent-sessions] [restate] session ${turn.session}: the request does not fit ${limits.maxTokens} tokens ` +
          'even with every message left out; compact the session (the compaction workflow) and send again',
        { errorCode: 413, metadata: { code: 'REQUEST_TOO_LARGE' } },
      );
    }
    const model = turn.model ?? options.model ?? DEFAULT_MODEL;
    const reply = await ctx.run('model call', async () => {
      const answer = await (
        await clientOf()
      ).messages.create({
        model,
        max_tokens: turn.maxTokens ?? limits.replyReserveTokens,
        ...(request.system.length === 0 ? {} : { system: request.system }),
        messages: request.messages,
      } as Anthropic.MessageCreateParamsNonStreaming);
      return {
        content: answer.content as ContentBlock[],
        model: answer.model,
        stopReason: answer.stop_reason,
        usage: { inputTokens: answer.usage.input_tokens, outputTokens: answer.usage.output_tokens },
      };
    });
    options.hooks?.afterModel?.();
    const content: string | ContentBlock[] = reply.content.length === 0 ? '' : reply.content;
    const [stored] = unwrap(
      (await object.appendNumbered([
        {
          id: `msg_${ctx.rand.uuidv4()}`,
          role: 'assistant',
          content,
          timestamp: new Date(await ctx.date.now()).toISOString(),
          tokens: tokens.estimateMessage({ role: 'assistant', content }),
          metadata: {
            model: reply.model,
            stopReason: reply.stopReason,
            usage: reply.usage,
            requestTokens: request.totalTokens,
            omittedMessages: request.omittedMessages,
          },
        },
      ])) as Outcome<Message[]>,
    ) as [Message];
    return {
      user,
      reply: stored,
      usage: reply.usage,
      request: { totalTokens: request.totalTokens, omittedMessages: request.omittedMessages },
      compactionError,
    };
  }
}

/** Waits for the session's compaction (joined or started through the object); its error, or null. */
async function compactFirst(
  ctx: restate.Context,
  turn: TurnRequest,
  limits: Limits,
): Promise<{ code: string; message: string } | null> {
  const object = ctx.objectClient(sessionObject, turn.session);
  const started = (await object.compact({
    compactionId: `turn-${ctx.rand.uuidv4()}`,
    limits,
    trigger: 'manual',
    feed: turn.feed ?? null,
    origin: 'sessionTurn',
  })) as Outcome<string>;
  if (!started.ok) return { code: started.error.code, message: started.error.message };
  const outcome = await ctx.workflowClient(COMPACTION, `${turn.session}:${started.value}`).result();
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
