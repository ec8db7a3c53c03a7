/**
 * @internal Requests and conversation turns of the runtime: `buildRequest`, `previewRequest`,
 * `send` and `calibrate`. A request never passes the limit: past the threshold it waits for (or
 * starts) a compaction, and when compaction is impossible right now it leaves the oldest live
 * messages out of that one request.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { compactionBlocked } from '../../machines/session.helpers.js';
import {
  requestTokensOf,
  thresholdOf,
  type CompactOutput,
  type SessionActorRef,
} from '../../machines/session.machine.js';
import { translateTurnError } from '../compaction/anthropic-errors.js';
import { SessionError, describeError } from '../core/errors.js';
import { thresholdOutOfReach, thresholdOutOfReachReason } from '../core/fixed-parts-room.js';
import type { ContentBlock, Limits, Message, MessageInput } from '../core/types.js';
import type { BuiltRequest, RequestFormat } from '../request/build-request.js';
import { buildRequestOffThread } from '../request/build-request-async.js';
import { storedCountOf } from './fixed-counts.js';
import type { SessionHandle } from './session-handle.js';
import type { TokenCalibration } from '../tokens/calibration.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { replyKeyOf } from './idempotency.js';
import { checkMethodOptions } from './method-options.js';
import { IDEMPOTENCY_KEY_RE, validateMessageInput } from './validate.js';

/** What `buildRequest` and `previewRequest` return. */
export interface SessionRequest extends BuiltRequest {
  /** The model whose learned correction the estimate uses. */
  model: string;
  /** Whether a compaction ran (or was waited for) to make room. */
  compacted: boolean;
  /** Why a needed compaction did not happen; the request then leaves messages out instead. */
  compactionError: { code: string; message: string } | null;
}

/**
 * Options of `send`. A name that is none of these is refused with `INVALID_ARGUMENT` (a misspelt
 * `idempotncyKey` does not make a retry store the turn twice).
 */
export interface SendOptions {
  /** The Anthropic client; default the runtime's, else one made from `ANTHROPIC_API_KEY` / `ANTHROPIC_BASE_URL`. */
  client?: Anthropic;
  model?: string;
  /** `max_tokens` of the reply; default the session's `replyReserveTokens`. */
  maxTokens?: number;
  signal?: AbortSignal;
  /**
   * Prompt caching (default true): the request carries `cache_control` breakpoints on its stable
   * prefix (system prompt, previous turn), so that turns between two compactions are read from
   * the API's cache; `false` sends none.
   */
  cache?: boolean;
  /**
   * Makes the turn idempotent (1 to 128 letters, digits, `.`, `_`, `:` or `-`): the user message
   * is stored under this key and the reply under `<key>/reply`. A retry with the same key (after
   * a 529, a timeout, a lost connection) does not store the user message again; if the reply was
   * stored already it is returned (`replayed: true`) without calling the model. The same key with
   * another user message is `IDEMPOTENCY_CONFLICT`.
   */
  idempotencyKey?: string;
}

/**
 * The tokens of a turn, as the API reported them. `inputTokens` is what was not read from or
 * written to the prompt cache; the request's whole input is the sum of the three input counts.
 */
export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the prompt cache (0 without caching). */
  cacheReadInputTokens: number;
  /** Input tokens written to the prompt cache (0 without caching). */
  cacheCreationInputTokens: number;
}

/** What `send` returns. */
export interface SendResult {
  /** The assistant's reply, as appended to the session: its content blocks exactly as the API returned them. */
  message: Message;
  usage: TurnUsage;
  /** The request's local estimate (corrected, reply room included) and what was left out of it. */
  request: { totalTokens: number; omittedMessages: number; compacted: boolean };
  /** True when an earlier call with the same `idempotencyKey` stored this reply: no model call was made. */
  replayed: boolean;
}

/** @internal What these operations need of the runtime. */
export interface ConversationDeps {
  loaded(id: string): Promise<{ ref: SessionActorRef; dir: SessionHandle; limits: Limits }>;
  compact(id: string): Promise<CompactOutput>;
  /** Appends; with `replyTo`, under the reply key of that user message's idempotency key. */
  addMessage(id: string, message: MessageInput, replyTo?: string): Promise<Message>;
  /** The message stored under an idempotency key, or null. */
  findByKey(id: string, key: string): Promise<Message | null>;
  /** Runs `work` after any running call with the same name has ended. */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Largest user message accepted, in UTF-8 bytes of its text. */
  maxMessageBytes: number;
  estimator: TokenEstimator;
  calibration: TokenCalibration;
  model: string;
  client: () => Promise<Anthropic>;
  /** Tells every live session actor the model's new correction factor. */
  onCalibrated(model: string, factor: number): void;
}

function userContent(deps: ConversationDeps, value: unknown): string | ContentBlock[] {
  return validateMessageInput({ role: 'user', content: value }, { maxBytes: deps.maxMessageBytes }).content;
}

/**
 * @internal Builds a request; with `makeRoom`, first waits for or starts the compaction the
 * request needs. Throws `REQUEST_TOO_LARGE` when even an empty conversation does not fit.
 */
export async function sessionRequest(
  deps: ConversationDeps,
  id: string,
  userMessage: unknown,
  options: { format?: RequestFormat; cache?: boolean; makeRoom: boolean; model?: string },
): Promise<SessionRequest> {
  const content = userMessage === null || userMessage === undefined ? null : userContent(deps, userMessage);
  const format = options.format ?? 'flattened';
  if (format !== 'flattened' && format !== 'messages') {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `format must be "flattened" or "messages", got ${JSON.stringify(format)}`,
    );
  }
  const model = options.model ?? deps.model;
  let { ref, dir, limits } = await deps.loaded(id);
  let compacted = false;
  let compactionError: SessionRequest['compactionError'] = null;
  if (options.makeRoom) {
    const c = ref.getSnapshot().context;
    const userTokens =
      content === null ? 0 : Math.ceil(deps.estimator.estimateContent(content) * c.correction);
    const fixedLocal = c.descriptionTokens + c.contextTokens;
    if (requestTokensOf(c) + userTokens < thresholdOf(limits)) {
      // Under the threshold: nothing to make room for.
    } else if (thresholdOutOfReach(fixedLocal, c.correction, limits, userTokens)) {
      // The description and context (and this user message) alone reach the threshold: no
      // compaction can help, so none is started (with AnthropicCompactor, model calls). The request
      // leaves messages out while it fits; past maxTokens, REQUEST_TOO_LARGE below.
      compactionError = {
        code: 'COMPACTION_NO_PROGRESS',
        message:
          `[dagent-sessions] [runtime] session ${id}: the agent description and context ` +
          thresholdOutOfReachReason(Math.ceil(fixedLocal * c.correction) + userTokens, limits, userTokens),
      };
    } else if (compactionBlocked(c) && c.failure !== null) {
      // The last compaction could not get under the threshold and too little came since: another
      // would end the same way (the session's own trigger waits too). Messages are left out instead.
      compactionError = { code: c.failure.code, message: c.failure.message };
    } else {
      // Joins the compaction in flight, or starts one; a failure is not fatal: messages are
      // left out of this request instead.
      try {
        await deps.compact(id);
        compacted = true;
      } catch (error) {
        const e = error as { code?: unknown };
        compactionError = {
          code: typeof e.code === 'string' ? e.code : 'COMPACTOR_FAILED',
          message: describeError(error),
        };
      }
      ({ ref, dir, limits } = await deps.loaded(id));
    }
  }
  // A long description or context is not counted here: its persisted count, or the counting worker.
  const built = await buildRequestOffThread(
    {
      agentDescription: dir.agentDescription,
      context: dir.context,
      checkpoint: dir.checkpoint,
      messages: dir.messages,
      userMessage: content,
      format,
      limits,
      estimator: deps.estimator,
      correction: deps.calibration.factor(model),
      cache: options.cache !== false,
    },
    storedCountOf(deps.estimator, dir, dir.counts),
  );
  if (!built.fits && options.makeRoom) {
    throw new SessionError(
      'REQUEST_TOO_LARGE',
      'runtime',
      `session ${id}: the request needs ${built.totalTokens} tokens with ` +
        `no live message at all (limit ${limits.maxTokens}); ` +
        `shorten the agent description, the context or the user message, or raise maxTokens`,
      { details: { sessionId: id, breakdown: built.breakdown } },
    );
  }
  return { ...built, model, compacted, compactionError };
}

/**
 * @internal One conversation turn with Claude: append, build, call (streaming), append the reply.
 * With an idempotency key, turns with the same key run one at a time, and a retry reuses what an
 * earlier one stored.
 */
export async function sendTurn(
  deps: ConversationDeps,
  id: string,
  userMessage: unknown,
  options: SendOptions = {},
): Promise<SendResult> {
  checkMethodOptions('send', options);
  const content = userContent(deps, userMessage);
  const key = options.idempotencyKey;
  if (key === undefined) return turn(deps, id, content, options);
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_RE.test(key)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `idempotencyKey must be 1 to 128 letters, digits, ".", "_", ":" or "-" (a UUID works), ` +
        `got ${typeof key === 'string' ? JSON.stringify(key.slice(0, 60)) : typeof key}`,
    );
  }
  return deps.exclusive(`send\n${id}\n${key}`, () => turn(deps, id, content, options, key));
}

async function turn(
  deps: ConversationDeps,
  id: string,
  content: string | ContentBlock[],
  options: SendOptions,
  key?: string,
): Promise<SendResult> {
  const model = options.model ?? deps.model;
  const client = options.client ?? (await deps.client());
  // Keyed: a retry finds the user message stored by the first try (or fails on different content).
  await deps.addMessage(id, { role: 'user', content, ...(key === undefined ? {} : { idempotencyKey: key }) });
  if (key !== undefined) {
    const stored = await deps.findByKey(id, replyKeyOf(key));
    if (stored) return replayedResult(stored);
  }
  const request = await sessionRequest(deps, id, null, {
    format: 'messages',
    makeRoom: true,
    model,
    cache: options.cache !== false,
  });
  const { limits } = await deps.loaded(id);
  let reply: Anthropic.Message;
  try {
    const stream = client.messages.stream(
      {
        model,
        max_tokens: options.maxTokens ?? limits.replyReserveTokens,
        ...(request.system.length === 0 ? {} : { system: request.system }),
        messages: request.messages,
      },
      options.signal ? { signal: options.signal } : {},
    );
    reply = await stream.finalMessage();
  } catch (error) {
    throw translateTurnError(error, id);
  }
  const usage = usageOf(reply.usage);
  // Learn the model's count: the request's estimate without the reply room, uncorrected, against
  // the whole input the API counted (cached or not).
  const factor = deps.calibration.factor(model);
  const estimated = (request.totalTokens - request.breakdown.replyReserve) / factor;
  const before = deps.calibration.factor(model);
  const counted = usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens;
  const state = deps.calibration.observe(model, estimated, counted);
  if (state.factor !== before) deps.onCalibrated(model, state.factor);
  // Stored as returned: redacted thinking, server tool blocks, citations and all (a later request
  // sends them back as they are, as the API asks).
  const answer: MessageInput = {
    role: 'assistant',
    content: reply.content.length === 0 ? '' : (reply.content as ContentBlock[]),
    metadata: {
      model: reply.model,
      stopReason: reply.stop_reason,
      usage,
      requestTokens: request.totalTokens,
      omittedMessages: request.omittedMessages,
      ...(request.compacted ? { compacted: true } : {}),
    },
  };
  const message = await deps.addMessage(id, answer, key);
  return {
    message,
    usage,
    request: {
      totalTokens: request.totalTokens,
      omittedMessages: request.omittedMessages,
      compacted: request.compacted,
    },
    replayed: false,
  };
}

/** The result of a turn whose reply an earlier call with the same key stored, from the reply's metadata. */
function replayedResult(message: Message): SendResult {
  return { message, ...replayedFigures(message), replayed: true };
}

/**
 * @internal A stored reply's usage and request figures, as its turn answered them (from the
 * reply's metadata): for a turn replayed by its key, in-process and on Restate.
 */
export function replayedFigures(reply: Message): Pick<SendResult, 'usage' | 'request'> {
  const meta = reply.metadata ?? {};
  const usage = (meta.usage ?? {}) as Partial<Record<keyof TurnUsage, unknown>>;
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  return {
    usage: {
      inputTokens: number(usage.inputTokens),
      outputTokens: number(usage.outputTokens),
      cacheReadInputTokens: number(usage.cacheReadInputTokens),
      cacheCreationInputTokens: number(usage.cacheCreationInputTokens),
    },
    request: {
      totalTokens: number(meta.requestTokens),
      omittedMessages: number(meta.omittedMessages),
      compacted: meta.compacted === true,
    },
  };
}

/**
 * @internal Asks the API to count the session's current request (`count_tokens`) and learns the
 * correction factor from it. Returns the model's calibration afterwards.
 */
export async function calibrateWithApi(
  deps: ConversationDeps,
  id: string,
  options: { client?: Anthropic; model?: string } = {},
) {
  checkMethodOptions('calibrate', options);
  const model = options.model ?? deps.model;
  const client = options.client ?? (await deps.client());
  const request = await sessionRequest(deps, id, null, { format: 'messages', makeRoom: false, model });
  if (request.messages.length === 0) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `session ${id} has no live messages to count; calibrate after a few turns`,
    );
  }
  let counted: { input_tokens: number };
  try {
    counted = await client.messages.countTokens({
      model,
      ...(request.system.length === 0 ? {} : { system: request.system }),
      messages: request.messages,
    });
  } catch (error) {
    throw translateTurnError(error, id);
  }
  const factor = deps.calibration.factor(model);
  const estimated = (request.totalTokens - request.breakdown.replyReserve) / factor;
  const state = deps.calibration.observe(model, estimated, counted.input_tokens);
  if (state.factor !== factor) deps.onCalibrated(model, state.factor);
  return { ...state, estimated: Math.round(estimated), counted: counted.input_tokens };
}

/** @internal The usage of a reply, cache counts as 0 when the API leaves them out. */
function usageOf(usage: Anthropic.Usage): TurnUsage {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
    cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
  };
}
