/**
 * Which side of a conversation may send which content block, as the Messages API enforces it.
 * Pure data: the list builder moves a block found on the wrong side into text, and the checker
 * refuses it. A block type missing from both sets (a type the API adds later) may be on either
 * side: it is sent where it was stored.
 */

/** The results of server tools: the API returns them in the assistant's turn, after their call. */
export const SERVER_TOOL_RESULT_TYPES: ReadonlySet<string> = new Set([
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'advisor_tool_result',
]);

/** Blocks only the assistant sends: calls, thinking, and what server tools and MCP servers return. */
export const ASSISTANT_ONLY_TYPES: ReadonlySet<string> = new Set([
  'tool_use',
  'thinking',
  'redacted_thinking',
  'server_tool_use',
  'mcp_tool_use',
  'mcp_tool_result',
  'compaction',
  ...SERVER_TOOL_RESULT_TYPES,
]);

/** Blocks only the user side sends: tool results and the media the model is given to read. */
export const USER_ONLY_TYPES: ReadonlySet<string> = new Set([
  'tool_result',
  'image',
  'document',
  'search_result',
]);

/**
 * The side a block of `type` must be on, or null when either will do.
 *
 * @example sideOf('image') // 'user'
 */
export function sideOf(type: string): 'user' | 'assistant' | null {
  if (USER_ONLY_TYPES.has(type)) return 'user';
  if (ASSISTANT_ONLY_TYPES.has(type)) return 'assistant';
  return null;
}

/**
 * Block types the API refuses a `cache_control` on: a breakpoint goes on the last block of a
 * message that can carry one.
 */
export const NO_CACHE_CONTROL_TYPES: ReadonlySet<string> = new Set(['thinking', 'redacted_thinking']);
