/**
 * Data that many tests arrange the same way: the session key of a Dev agent on a task, and a
 * stored message with fixed id, time and token count.
 */
import type { ContentBlock, Limits, Message, Role, SessionKey } from '../../src/core/types.js';

/** The Dev agent's session of task `t1` of feature `f1`, in development. */
export const DEV_TASK_KEY: Extract<SessionKey, { type: 'task' }> = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};

/** Limits for building requests: 100,000 tokens, compaction at 90%, 100 tokens kept for the reply. */
export const REQUEST_LIMITS: Limits = {
  maxTokens: 100_000,
  compactAt: 0.9,
  keepRecentTokens: 20_000,
  replyReserveTokens: 100,
  checkpointTokens: 10_000,
};

/**
 * A message as the store holds it: id `m<seq>`, a fixed time, and `tokens` as the test chooses
 * (the token counts are what most of these tests assert on, so they are given, not counted here).
 */
export function storedMessage(
  seq: number,
  role: Role,
  content: string | ContentBlock[],
  tokens = 10,
): Message {
  return { id: `m${seq}`, seq, role, content, timestamp: '2025-01-01T00:00:00.000Z', tokens };
}
