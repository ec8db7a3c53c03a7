/**
 * The pure core of request building: the system prompt (agent description, context, checkpoint),
 * the live messages (flattened into the system prompt, or as a Messages API list), the new user
 * message, their token estimate, and the fitting that leaves out the oldest live messages of one
 * request (never from disk) when the whole would pass the limit.
 */
import { SessionError } from '../core/errors.js';
import { toolResultIds, toolUseIds } from '../core/plan-compaction.js';
import type {
  AgentDescription,
  Checkpoint,
  ContentBlock,
  Limits,
  Message,
  SessionContext,
} from '../core/types.js';
import { MESSAGE_OVERHEAD_TOKENS, type TokenEstimator } from '../tokens/token-estimator.js';
import { contentToText, renderAgentDescription, renderCheckpoint, renderContext } from './format.js';
import { toMessagesList, type MessageParamLike } from './messages-list.js';

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
  /** The checkpoint: its summary and checks go into the system prompt. */
  checkpoint: Checkpoint | null;
  /** Live messages, oldest first, each with its stored `tokens`. */
  messages: readonly Message[];
  /** The new user message; null for a preview without one. */
  userMessage: string | ContentBlock[] | null;
  format: RequestFormat;
  /** `maxTokens` and `replyReserveTokens` are read. */
  limits: Limits;
  estimator: TokenEstimator;
  /** Multiplies token estimates (a learned correction factor, default 1); not the reply reserve. */
  correction?: number;
}

/**
 * Tokens per part of a request, corrected; `total` is their sum.
 *
 * @example const b: RequestBreakdown = { agentDescription: 120, context: 300, checkpoint: 900, messages: 41_000, userPrompt: 12, replyReserve: 4_096, total: 46_428 };
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
  systemPrompt: string;
  /** The new user message as text ('' when none). */
  userPrompt: string;
  /** `messages`: live messages + the new user message; `flattened`: the user message alone ([] when none). */
  messages: MessageParamLike[];
  /** Estimate of everything including the reply reserve, corrected; equals `breakdown.total`. */
  totalTokens: number;
  breakdown: RequestBreakdown;
  /** The oldest live messages left out of this request to fit (a prefix; never removed from disk). */
  omittedMessages: number;
  /** Stored tokens of the omitted messages (uncorrected). */
  omittedTokens: number;
  /** `totalTokens <= limits.maxTokens`. When false, even zero live messages do not fit. */
  fits: boolean;
}

/**
 * Builds the request for a session. The system prompt is the agent description, the context and
 * the checkpoint (empty parts skipped), then, when messages were left out, a note saying how
 * many, then the live messages (`flattened`: a `## Conversation so far` transcript) or the text of
 * `system`-role messages (`messages`: `## System messages`; the rest become the list, see
 * {@link toMessagesList}).
 *
 * Tokens: live messages count their stored `tokens` (a sum), system parts `estimator.estimate` of
 * their text, the user message `estimator.estimateMessage`, what the request adds (notes,
 * headings, placeholder and synthetic results) its estimate; each part is multiplied by
 * `correction` and rounded up; the reply reserve is added as is. When the total passes
 * `limits.maxTokens`, the oldest live messages are left out, at cuts that never separate a
 * `tool_use` from its `tool_result` (the new user message included), until it fits; when nothing
 * fits, the smallest request is returned with `fits: false`.
 *
 * @param input - the session's pieces, the format, the limits and the estimator.
 * @returns the request; `fits` is true exactly when `totalTokens <= limits.maxTokens`.
 * @throws SessionError `INVALID_ARGUMENT` (origin `runtime`) for an unknown format, invalid limits
 *   or correction, or a message without a valid stored `tokens`.
 * @example
 * ```ts
 * const built = buildRequest({ ...pieces, userMessage: 'Continue', format: 'messages', limits, estimator });
 * if (!built.fits) throw new Error(`the fixed parts alone need ${built.totalTokens} tokens`);
 * ```
 */
export function buildRequest(input: RequestInput): BuiltRequest {
  const { messages, userMessage, format, limits, estimator } = checkInput(input);
  const correction = input.correction ?? 1;
  const corrected = (tokens: number): number => Math.ceil(tokens * correction);
  const estimate = (text: string): number => (text === '' ? 0 : estimator.estimate(text));

  const agentText = renderAgentDescription(input.agentDescription);
  const contextText =
    input.context === null || input.context === undefined ? '' : renderContext(input.context);
  const checkpointText =
    input.checkpoint === null || input.checkpoint === undefined
      ? ''
      : renderCheckpoint(input.checkpoint.summary, input.checkpoint.checks, input.checkpoint.ledger);
  const userPrompt = userMessage === null ? '' : contentToText(userMessage);
  const fixed = {
    agentDescription: corrected(estimate(agentText)),
    context: corrected(estimate(contextText)),
    checkpoint: corrected(estimate(checkpointText)),
    userPrompt:
      userPrompt.trim() === '' || userMessage === null
        ? 0
        : corrected(estimator.estimateMessage({ role: 'user', content: userMessage })),
    replyReserve: limits.replyReserveTokens,
  };
  const fixedTotal =
    fixed.agentDescription + fixed.context + fixed.checkpoint + fixed.userPrompt + fixed.replyReserve;

  const n = messages.length;
  const tail = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) tail[i] = (tail[i + 1] ?? 0) + (messages[i] as Message).tokens;

  const assemble = (omitted: number): BuiltRequest => {
    const kept = messages.slice(omitted);
    const note =
      omitted === 0
        ? ''
        : `_${omitted} earlier message(s) of this session are left out of this request to fit the token limit._`;
    let systemTail: string;
    let added = estimate(note);
    let list: MessageParamLike[];
    if (format === 'flattened') {
      const transcript = renderTranscript(kept);
      systemTail = transcript === '' ? '' : `## Conversation so far\n\n${transcript}`;
      if (transcript !== '') added += estimate('## Conversation so far');
      list = userPrompt.trim() === '' ? [] : [{ role: 'user', content: userPrompt }];
    } else {
      const converted = toMessagesList(kept, userMessage);
      systemTail =
        converted.systemTexts.length === 0
          ? ''
          : `## System messages\n\n${converted.systemTexts.join('\n\n')}`;
      if (systemTail !== '') added += estimate('## System messages');
      if (converted.addedBlocks.length > 0)
        added += estimator.estimateContent(converted.addedBlocks as ContentBlock[]);
      added += converted.addedMessages * MESSAGE_OVERHEAD_TOKENS;
      list = converted.messages;
    }
    const systemPrompt = [agentText, contextText, checkpointText, note, systemTail]
      .filter((part) => part !== '')
      .join('\n\n');
    const breakdown = { ...fixed, messages: corrected((tail[omitted] ?? 0) + added), total: 0 };
    breakdown.total = fixedTotal + breakdown.messages;
    return {
      systemPrompt,
      userPrompt,
      messages: list,
      totalTokens: breakdown.total,
      breakdown,
      omittedMessages: omitted,
      omittedTokens: (tail[0] ?? 0) - (tail[omitted] ?? 0),
      fits: breakdown.total <= limits.maxTokens,
    };
  };

  const cuts = omissionCuts(messages, userMessage);
  let smallest = 0;
  for (let cut = 0; cut <= n; cut++) {
    if (cuts[cut] !== true) continue;
    smallest = cut;
    // A lower bound first: what the request adds only raises the total.
    if (fixedTotal + corrected(tail[cut] ?? 0) > limits.maxTokens) continue;
    const built = assemble(cut);
    if (built.fits) return built;
  }
  return assemble(smallest);
}

/**
 * @internal For every cut `k` in `0..messages.length` (leave out `messages[0..k)`), whether it
 * keeps every tool call with its later results, the new user message counting as one more
 * message that is never left out. Results before their call, or in the call's own message, do not
 * bind (they are shown as text anyway). O(n) in messages and blocks.
 */
export function omissionCuts(
  messages: readonly Pick<Message, 'content'>[],
  userMessage: string | ContentBlock[] | null,
): boolean[] {
  const n = messages.length;
  const firstUse = new Map<string, number>();
  const lastResult = new Map<string, number>();
  const sequence = userMessage === null ? messages : [...messages, { content: userMessage }];
  sequence.forEach((message, index) => {
    for (const id of toolUseIds(message)) if (!firstUse.has(id)) firstUse.set(id, index);
    for (const id of toolResultIds(message)) {
      const use = firstUse.get(id);
      if (use !== undefined && use < index) lastResult.set(id, index);
    }
  });
  const delta = new Array<number>(n + 3).fill(0);
  for (const [id, last] of lastResult) {
    const first = (firstUse.get(id) ?? 0) + 1;
    delta[first] = (delta[first] ?? 0) + 1;
    delta[last + 1] = (delta[last + 1] ?? 0) - 1;
  }
  const valid: boolean[] = [];
  let depth = 0;
  for (let cut = 0; cut <= n; cut++) {
    depth += delta[cut] ?? 0;
    valid.push(cut === 0 || depth === 0);
  }
  return valid;
}

/** @internal Live messages as `### role` sections of their text; blank messages are skipped. */
function renderTranscript(messages: readonly Message[]): string {
  return messages
    .flatMap((message) => {
      const text = contentToText(message.content).trim();
      return text === '' ? [] : [`### ${message.role}\n${text}`];
    })
    .join('\n\n');
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
