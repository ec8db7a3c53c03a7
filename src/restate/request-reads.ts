/**
 * @internal The `session` object's request reads: `estimate`, `previewRequest` and `buildRequest`,
 * computed on the server with the project's own pure functions (`sizeEstimateOf`, `fixedTokensOf`,
 * `buildRequest`), so that a client loads no session to answer them. The caller passes what the
 * object cannot know: the session's limits, the learned correction of its model, the largest user
 * message. The estimate reads the head and the small parts only (the live tokens are the head's
 * sums); a request reads the live messages too, as it sends them.
 */
import { SessionError } from '../core/errors.js';
import { countedTokens } from '../core/request-size.js';
import type { AgentDescription, ContentBlock, Limits, SessionContext } from '../core/types.js';
import type { BuiltRequest, RequestFormat } from '../request/build-request.js';
import { buildRequestOffThread } from '../request/build-request-async.js';
import { fixedTokensOf, storedCountOf } from '../runtime/fixed-counts.js';
import { sizeEstimateOf } from '../runtime/session-reads.js';
import type { SizeEstimate } from '../runtime/types.js';
import { validateMessageInput } from '../runtime/validate.js';
import type { SessionCounts } from '../store/contract.js';
import { currentCheckpoint, liveMessages, readHead } from './session-reads.js';
import { KEYS, type HeadState } from './session-state.js';
import { estimatorOf } from './session-writes.js';
import type * as restate from '@restatedev/restate-sdk';

type Reader = restate.ObjectSharedContext;

/** What `estimate` is asked: the session's limits and the correction of the client's model. */
export interface EstimateCall {
  limits: Limits;
  /** The learned token correction (1 without calibration). */
  correction: number;
}

/** What `previewRequest` and `buildRequest` are asked. */
export interface RequestCall extends EstimateCall {
  /** The new user message, or null (a preview without one). */
  userMessage: string | ContentBlock[] | null;
  format?: RequestFormat;
  cache?: boolean;
  /** Largest user message accepted, in UTF-8 bytes of its text (default the runtime's). */
  maxMessageBytes?: number;
}

const NO_COUNTS: SessionCounts = { description: null, context: null, checkpoint: null };

/** The fixed parts and their tokens (persisted counts when they match, else counted here). */
async function fixedParts(ctx: Reader, head: HeadState) {
  const parts = {
    agentDescription: await ctx.get<AgentDescription>(KEYS.description),
    context: await ctx.get<SessionContext>(KEYS.context),
    checkpoint: await currentCheckpoint(ctx, head),
  };
  const counts = (await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS;
  return { parts, counts, tokens: await fixedTokensOf(estimatorOf(), parts, counts) };
}

/**
 * `estimateSize` as the runtime answers it: the fixed parts' tokens, the live tokens that requests
 * send (internal messages left out) from the head's sums, and the threshold of `call.limits`. A
 * head written before the internal sums reads the live messages instead.
 */
export async function estimateOf(ctx: Reader, id: string, call: EstimateCall): Promise<SizeEstimate> {
  const head = await readHead(ctx, id);
  const { tokens } = await fixedParts(ctx, head);
  const { limits, correction } = call;
  const liveTokens =
    head.internalTokens !== undefined && head.archivedInternalTokens !== undefined
      ? head.tokens - head.archivedTokens - (head.internalTokens - head.archivedInternalTokens)
      : countedTokens(await liveMessages(ctx, head));
  return sizeEstimateOf({
    descriptionTokens: tokens.description,
    contextTokens: tokens.context,
    checkpointTokens: tokens.checkpoint,
    liveTokens,
    liveCount: head.count - head.archivedCount,
    limits,
    correction,
  });
}

/**
 * The request for the next turn from the parts and live messages as they are now, as the runtime's
 * `previewRequest` builds it; with `strict` (`buildRequest`) a user message is required and a
 * request that does not fit even without messages is `REQUEST_TOO_LARGE`.
 */
export async function requestOf(
  ctx: Reader,
  id: string,
  call: RequestCall,
  strict: boolean,
): Promise<BuiltRequest> {
  if (strict && (call.userMessage === undefined || call.userMessage === null)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'buildRequest needs the new user message (a string or a list ' +
        'of blocks); use previewRequest to see a request without one',
    );
  }
  const content =
    call.userMessage === null || call.userMessage === undefined
      ? null
      : validateMessageInput(
          { role: 'user', content: call.userMessage },
          call.maxMessageBytes === undefined ? {} : { maxBytes: call.maxMessageBytes },
        ).content;
  const format = call.format ?? 'flattened';
  if (format !== 'flattened' && format !== 'messages') {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `format must be "flattened" or "messages", got ${JSON.stringify(format)}`,
    );
  }
  const head = await readHead(ctx, id);
  const { parts, counts, tokens } = await fixedParts(ctx, head);
  // Long texts are not counted here: the parts' counts (persisted, or just made), else the worker.
  const estimator = estimatorOf();
  const stored = storedCountOf(estimator, parts, { ...counts, ...tokens.fresh });
  const built = await buildRequestOffThread(
    {
      ...parts,
      messages: await liveMessages(ctx, head),
      userMessage: content,
      format,
      limits: call.limits,
      estimator,
      correction: call.correction,
      cache: call.cache !== false,
    },
    stored,
  );
  if (!built.fits && strict) {
    throw new SessionError(
      'REQUEST_TOO_LARGE',
      'runtime',
      `session ${id}: the request needs ${built.totalTokens} tokens with ` +
        `no live message at all (limit ${call.limits.maxTokens}); ` +
        `shorten the agent description, the context or the user message, or raise maxTokens`,
      { details: { sessionId: id, breakdown: built.breakdown } },
    );
  }
  return built;
}
