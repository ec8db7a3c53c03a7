/**
 * The pure core of request building: the system prompt (agent description, context, checkpoint),
 * the live messages (flattened into the system prompt, or as a Messages API list), the new user
 * message, their token estimate, and the fitting that leaves out the oldest live messages of one
 * request (never from disk) when the whole would pass the limit.
 */
import { SessionError } from '../core/errors.js';
import { omissionCuts } from '../core/tool-pair-cuts.js';
import type {
  AgentDescription,
  Checkpoint,
  ContentBlock,
  Limits,
  Message,
  SessionContext,
} from '../core/types.js';
import { isInternalMessage, requestTokens } from '../core/request-size.js';
import {
  BLOCK_OVERHEAD_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
  type TokenEstimator,
} from '../tokens/token-estimator.js';
import { contentToText, renderAgentDescription, renderCheckpoint, renderContext } from './format.js';
import { systemBlocks, withMessageBreakpoints, type SystemBlock } from './cache-breakpoints.js';
import { toMessagesList, type MessageParamLike } from './messages-list.js';
import { rememberedBlocksCount, rememberedCount } from './remembered-counts.js';
import { JOIN, flattenedTokens, renderTranscript } from './flattened-sections.js';

/**
 * How live messages are sent: `flattened` puts them into the system prompt as a readable
 * transcript (a fresh context per request); `messages` sends them as a Messages API list.
 *
 * @example const format: RequestFormat = 'messages';
 */
export type RequestFormat = 'flattened' | 'messages';

/**
 * The pieces of a session that {@link buildRequest} turns into a request.
 *
 * @example
 * ```ts
 * const input: RequestInput = { agentDescription, context, checkpoint, messages: chat.messages,
 *   userMessage: 'Run the tests', format: 'messages', limits, estimator };
 * ```
 */
export interface RequestInput {
  agentDescription: AgentDescription | null;
  context: SessionContext | null;
  /**
   * The checkpoint: its summary and checks go into the system prompt. A frozen one is taken as
   * deep-frozen (the runtime's are) and rendered once for all requests.
   */
  checkpoint: Checkpoint | null;
  /**
   * Live messages, oldest first, each with its stored `tokens`; internal ones are left out. A
   * frozen message is taken as deep-frozen (the runtime's are) and rendered once.
   */
  messages: readonly Message[];
  /** The new user message; null for a preview without one. */
  userMessage: string | ContentBlock[] | null;
  format: RequestFormat;
  /** `maxTokens` and `replyReserveTokens` are read. */
  limits: Limits;
  estimator: TokenEstimator;
  /** Multiplies token estimates (a learned correction factor, default 1); not the reply reserve. */
  correction?: number;
  /**
   * Prompt caching (default true): `cache_control` breakpoints at the end of the stable part of
   * the system prompt and, in `messages` form, at the end of the previous turn and of the final
   * message, so that turns between two compactions read their prefix from the API's cache.
   * `false` sends no breakpoint.
   */
  cache?: boolean;
}

/**
 * Tokens per part of a request, corrected; `total` is their sum.
 *
 * @example
 * const b: RequestBreakdown = {
 *   agentDescription: 120,
 *   context: 300,
 *   checkpoint: 900,
 *   messages: 41_000,
 *   userPrompt: 12,
 *   replyReserve: 4_096,
 *   total: 46_428,
 * };
 */
export interface RequestBreakdown {
  agentDescription: number;
  context: number;
  checkpoint: number;
  /** Stored tokens of the live messages sent, plus what the request adds around them. */
  messages: number;
  userPrompt: number;
  replyReserve: number;
  total: number;
}

/**
 * A request ready to send, with its estimate.
 *
 * @example
 * ```ts
 * const built: BuiltRequest = buildRequest(input);
 * await client.messages.create({ model, max_tokens: 4096, system: built.systemPrompt, messages: built.messages });
 * ```
 */
export interface BuiltRequest {
  /** The system prompt as one string (the texts of `system`, joined by a blank line). */
  systemPrompt: string;
  /**
   * The system prompt as sent: the stable part (agent description, context, checkpoint; with a
   * `cache_control` breakpoint unless caching is off), then what changes between requests (the
   * note on omitted messages, `system`-role messages, the flattened transcript). Pass it as `system`.
   */
  system: SystemBlock[];
  /** The new user message as text ('' when none). */
  userPrompt: string;
  /** `messages`: live messages + the new user message; `flattened`: the user message alone ([] when none). */
  messages: MessageParamLike[];
  /** Estimate of everything including the reply reserve, corrected; equals `breakdown.total`. */
  totalTokens: number;
  breakdown: RequestBreakdown;
  /**
   * The oldest live messages left out of this request to fit (a prefix of those it sends; never
   * removed from disk). Internal messages are not sent and not counted here.
   */
  omittedMessages: number;
  /** Stored tokens of the omitted messages (uncorrected). */
  omittedTokens: number;
  /** `totalTokens <= limits.maxTokens`. When false, even zero live messages do not fit. */
  fits: boolean;
}

/**
 * Builds the request for a session. Messages the host marked internal (`metadata.internal: true`)
 * are left out first: they are neither rendered nor counted. The system prompt is the agent
 * description, the context and the checkpoint (empty parts skipped), then, when messages were
 * left out, a note saying how many, then the live messages (`flattened`: a
 * `## Conversation so far` transcript) or the text of
 * `system`-role messages (`messages`: `## System messages`; the rest become the list, see
 * {@link toMessagesList}).
 *
 * The system prompt is also returned as blocks (`system`): the stable part (description, context,
 * checkpoint) with a prompt-cache breakpoint, then the rest; in `messages` form the end of the
 * previous turn and of the final message carry breakpoints too (`cache: false` places none; see
 * `withMessageBreakpoints`). A stored `cache_control` is never sent: the request places its own.
 *
 * Tokens: what is rendered is what is counted, so that counting the built request again with
 * the estimator never gives more than `totalTokens`. `flattened`: the head of the system prompt
 * as rendered, and each live message's `### role` section with its tool labels and ids as
 * rendered (counted once per message and estimator, then summed) with the blank lines joining
 * them. `messages`: the system prompt as rendered; each live message's stored `tokens` (with the
 * framing of a string sent as a text block), the text of blocks sent as text (a result whose call
 * is not before it...), and what the list adds (placeholder, synthetic results). The total is
 * {@link requestTokens} of the sum: multiplied by `correction`, rounded up, plus the reply
 * reserve; the breakdown's parts add up to it. When the total passes
 * `limits.maxTokens`, the oldest live messages are left out, at cuts that never separate a
 * `tool_use` from its `tool_result` (the new user message included), until it fits; when nothing
 * fits, the smallest request is returned with `fits: false`.
 *
 * @param input - the session's pieces, the format, the limits and the estimator.
 * @returns the request; `fits` is true exactly when `totalTokens <= limits.maxTokens`. In messages
 *   form, the blocks made of frozen messages are frozen and shared with later builds (see
 *   {@link toMessagesList}); the runtime's `buildRequest` and `previewRequest` hand out a copy.
 * @throws SessionError `INVALID_ARGUMENT` (origin `runtime`) for an unknown format, invalid limits
 *   or correction, or a message without a valid stored `tokens`.
 * @example
 * ```ts
 * const built = buildRequest({ ...pieces, userMessage: 'Continue', format: 'messages', limits, estimator });
 * if (!built.fits) throw new Error(`the fixed parts alone need ${built.totalTokens} tokens`);
 * ```
 */
export function buildRequest(input: RequestInput): BuiltRequest {
  return buildRequestCounting(input, (text) => rememberedCount(input.estimator, text));
}

/**
 * @internal {@link buildRequest} with the texts of the system prompt (parts, head, joins) counted
 * by `count`, which must give `estimator.estimate(text)` (build-request-async.ts).
 */
export function buildRequestCounting(input: RequestInput, count: (text: string) => number): BuiltRequest {
  const { userMessage, format, limits, estimator } = checkInput(input);
  // Internal messages stay in history but are never sent: left out before anything is rendered or
  // counted, so that the estimate and the request agree (the session's live figure skips them too).
  const messages = input.messages.filter((message) => !isInternalMessage(message));
  const correction = input.correction ?? 1;
  const corrected = (tokens: number): number => Math.ceil(tokens * correction);
  const estimate = (text: string): number => (text === '' ? 0 : count(text));
  const join = estimate(JOIN);

  const agentText = renderAgentDescription(input.agentDescription);
  const contextText =
    input.context === null || input.context === undefined ? '' : renderContext(input.context);
  const checkpointText =
    input.checkpoint === null || input.checkpoint === undefined ? '' : checkpointTextOf(input.checkpoint);
  const userPrompt = userMessage === null ? '' : contentToText(userMessage);
  const hasUser = userMessage !== null && userPrompt.trim() !== '';
  // The new user message as it is sent: its text (flattened), or a message of the list.
  const userLocal = !hasUser
    ? 0
    : format === 'flattened'
      ? estimator.estimateMessage({ role: 'user', content: userPrompt })
      : estimator.estimateMessage({ role: 'user', content: userMessage }) + stringBlock(userMessage);
  const parts = {
    agentDescription: estimate(agentText),
    context: estimate(contextText),
    checkpoint: estimate(checkpointText),
  };
  const fixedLocal = parts.agentDescription + parts.context + parts.checkpoint + userLocal;

  // What each live message adds to the request as sent, from the last one back.
  const n = messages.length;
  const tail = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--)
    tail[i] = (tail[i + 1] ?? 0) + sentTokens(messages[i] as Message, format, estimator);

  const assemble = (omitted: number): BuiltRequest => {
    const kept = messages.slice(omitted);
    const note =
      omitted === 0
        ? ''
        : `_${omitted} earlier message(s) of this session are left out of this request to fit the token limit._`;
    let systemTail: string;
    let list: MessageParamLike[];
    let local: number;
    if (format === 'flattened') {
      const transcript = renderTranscript(kept);
      systemTail = transcript === '' ? '' : `${CONVERSATION_HEADING}${JOIN}${transcript}`;
      list = hasUser ? [{ role: 'user', content: userPrompt }] : [];
      // The head exactly as rendered; the transcript as the sum of its messages and joins.
      const head = joinParts([agentText, contextText, checkpointText, note]);
      local =
        estimate(head) +
        (transcript === ''
          ? 0
          : (head === '' ? 0 : join) + estimate(CONVERSATION_HEADING) + join + tail[omitted]!) +
        userLocal;
    } else {
      const converted = toMessagesList(kept, userMessage);
      systemTail =
        converted.systemTexts.length === 0
          ? ''
          : `${SYSTEM_HEADING}${JOIN}${converted.systemTexts.join(JOIN)}`;
      list = converted.messages;
      const systemPrompt = joinParts([agentText, contextText, checkpointText, note, systemTail]);
      const listed = kept.reduce((sum, m) => sum + (m.role === 'system' ? 0 : listTokens(m)), 0);
      const labels = converted.convertedBlocks.reduce(
        (sum, block) => sum + estimate(block.text) + BLOCK_OVERHEAD_TOKENS,
        0,
      );
      const added =
        rememberedBlocksCount(estimator, converted.addedBlocks as ContentBlock[]) +
        converted.addedMessages * MESSAGE_OVERHEAD_TOKENS;
      local = estimate(systemPrompt) + listed + labels + added + userLocal;
    }
    const systemPrompt = joinParts([agentText, contextText, checkpointText, note, systemTail]);
    // Prompt caching: the stable part of the system prompt, then what changes; see cache-breakpoints.
    const cache = input.cache !== false;
    const stable = joinParts([agentText, contextText, checkpointText]);
    const system = systemBlocks(stable, joinParts([note, systemTail]), cache);
    if (cache && format === 'messages') list = withMessageBreakpoints(list);
    const total = requestTokens(local, correction, limits.replyReserveTokens);
    const breakdown: RequestBreakdown = {
      agentDescription: corrected(parts.agentDescription),
      context: corrected(parts.context),
      checkpoint: corrected(parts.checkpoint),
      messages: 0,
      userPrompt: corrected(userLocal),
      replyReserve: limits.replyReserveTokens,
      total,
    };
    // The messages and everything around them: what is left of the total (so the parts sum to it).
    breakdown.messages = Math.max(
      0,
      total -
        breakdown.agentDescription -
        breakdown.context -
        breakdown.checkpoint -
        breakdown.userPrompt -
        breakdown.replyReserve,
    );
    return {
      systemPrompt,
      system,
      userPrompt,
      messages: list,
      totalTokens: total,
      breakdown,
      omittedMessages: omitted,
      omittedTokens: messages.slice(0, omitted).reduce((sum, m) => sum + m.tokens, 0),
      fits: total <= limits.maxTokens,
    };
  };

  // Cut 0 (nothing left out) is always allowed: the others are worked out only when it does not fit.
  let cuts: boolean[] | undefined;
  let smallest = 0;
  for (let cut = 0; cut <= n; cut++) {
    if (cut > 0 && (cuts ??= omissionCuts(messages, userMessage))[cut] !== true) continue;
    smallest = cut;
    // A lower bound first: what the request adds around the messages only raises the total.
    if (
      requestTokens(fixedLocal + (tail[cut] ?? 0), correction, limits.replyReserveTokens) > limits.maxTokens
    )
      continue;
    const built = assemble(cut);
    if (built.fits) return built;
  }
  return assemble(smallest);
}

/** Checkpoints as rendered, kept per frozen checkpoint (a session's: a commit makes a new one). */
const RENDERED = new WeakMap<Checkpoint, string>();

/**
 * A checkpoint as rendered, once per frozen checkpoint: the runtime's are deep-frozen, and the
 * same object from one request of a session to the next until a commit or a check replaces it.
 */
function checkpointTextOf(checkpoint: Checkpoint): string {
  const known = RENDERED.get(checkpoint);
  if (known !== undefined) return known;
  const text = renderCheckpoint(checkpoint.summary, checkpoint.checks, checkpoint.ledger);
  if (Object.isFrozen(checkpoint)) RENDERED.set(checkpoint, text);
  return text;
}

const CONVERSATION_HEADING = '## Conversation so far';
const SYSTEM_HEADING = '## System messages';

/** The non-empty parts, joined by blank lines. */
function joinParts(parts: readonly string[]): string {
  return parts.filter((part) => part !== '').join(JOIN);
}

/** A string content is sent as one text block: it costs the block framing its stored count lacks. */
function stringBlock(content: unknown): number {
  return typeof content === 'string' ? BLOCK_OVERHEAD_TOKENS : 0;
}

/** A live message in a Messages API list: its stored count, plus the framing of a string sent as a block. */
function listTokens(message: Message): number {
  return message.tokens + stringBlock(message.content);
}

/**
 * @internal What a live message adds to a request as sent. Flattened: its `### role` section as
 * rendered, and the blank line joining it to the next (flattened-sections.ts). As a list: its
 * stored count (and block framing); a `system` message: its text in the system prompt, and its join.
 */
export function sentTokens(message: Message, format: RequestFormat, estimator: TokenEstimator): number {
  if (format === 'flattened') return flattenedTokens(message, estimator);
  if (message.role !== 'system') return listTokens(message);
  const text = contentToText(message.content).trim();
  return text === '' ? 0 : estimator.estimate(text) + estimator.estimate(JOIN);
}

/** @internal Rejects what would make the estimate meaningless; returns the input. */
function checkInput(input: RequestInput): RequestInput {
  const fail = (what: string): never => {
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `buildRequest: ${what}`);
  };
  if (input === null || typeof input !== 'object') fail('expects an input object');
  if (input.format !== 'flattened' && input.format !== 'messages')
    fail(`format must be "flattened" or "messages", got ${String(input.format)}`);
  const { maxTokens, replyReserveTokens } = input.limits ?? ({} as Partial<Limits>);
  if (typeof maxTokens !== 'number' || !Number.isFinite(maxTokens) || maxTokens <= 0)
    fail(`limits.maxTokens must be a number > 0, got ${String(maxTokens)}`);
  if (
    typeof replyReserveTokens !== 'number' ||
    !Number.isFinite(replyReserveTokens) ||
    replyReserveTokens < 0
  ) {
    fail(`limits.replyReserveTokens must be a number >= 0, got ${String(replyReserveTokens)}`);
  }
  const correction = input.correction;
  if (
    correction !== undefined &&
    (typeof correction !== 'number' || !Number.isFinite(correction) || correction <= 0)
  ) {
    fail(`correction must be a finite number > 0, got ${String(correction)}`);
  }
  if (input.estimator === null || typeof input.estimator !== 'object') fail('needs a token estimator');
  if (!Array.isArray(input.messages)) fail('messages must be an array');
  input.messages.forEach((message, index) => {
    const tokens: unknown = (message as Partial<Message> | null)?.tokens;
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0)
      fail(`message ${index} has no valid stored token count (got ${String(tokens)})`);
  });
  return input;
}
