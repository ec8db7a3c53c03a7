/**
 * Messages for ledger and compactor tests: session messages with seq and tokens, and shorthands
 * for text, tool calls and their results.
 */
import type { ContentBlock, Message, MessageInput, Role } from '../../src/core/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

export const estimator = createTokenEstimator();

/** Session messages from inputs, seq counted from `from`. */
export function toMessages(inputs: readonly MessageInput[], from = 0): Message[] {
  return inputs.map((input, i) => ({
    id: `m${from + i}`,
    seq: from + i,
    timestamp: '2025-01-01T00:00:00.000Z',
    tokens: estimator.estimateMessage(input),
    ...input,
  }));
}

export const say = (
  role: Role,
  content: string | ContentBlock[],
  metadata?: Record<string, unknown>,
): MessageInput => (metadata === undefined ? { role, content } : { role, content, metadata });

export const use = (id: string, name: string, input: unknown): ContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input,
});

export const result = (id: string, content: string, isError = false): ContentBlock =>
  isError
    ? { type: 'tool_result', tool_use_id: id, content, is_error: true }
    : { type: 'tool_result', tool_use_id: id, content };

/** A call and its result, as two messages. */
export function call(
  id: string,
  name: string,
  input: unknown,
  output: string,
  isError = false,
): MessageInput[] {
  return [say('assistant', [use(id, name, input)]), say('user', [result(id, output, isError)])];
}
