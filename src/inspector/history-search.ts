/**
 * The history search: by text (case-insensitive, anywhere in the message as the page shows it),
 * by role and by tool name (the call of that tool and its result). Pure.
 */
import type { Message } from '../core/types.js';
import { messageText } from './message-text.js';

/**
 * What the search looks for; an empty field matches everything.
 * @example const query: HistorySearch = { text: 'vitest', role: 'user', tool: 'Bash' };
 */
export interface HistorySearch {
  text: string;
  role: '' | Message['role'];
  tool: string;
}

/** @example searchActive(NO_SEARCH) // false */
export const NO_SEARCH: HistorySearch = { text: '', role: '', tool: '' };

/**
 * Whether any field of the search is set.
 * @example searchActive({ text: '', role: 'user', tool: '' }) // true
 */
export function searchActive(search: HistorySearch): boolean {
  return search.text.trim() !== '' || search.role !== '' || search.tool.trim() !== '';
}

/** The tool names a message calls, and the ids of those calls. */
function toolUses(message: Message): { name: string; id: string }[] {
  if (typeof message.content === 'string') return [];
  return message.content.flatMap((b) => (b.type === 'tool_use' ? [{ name: b.name, id: b.id }] : []));
}

/**
 * A matcher to run over messages in seq order: it remembers the ids of the tool calls it saw, so
 * that a tool name also finds the results of that tool's calls (a `tool_result` names only the id).
 *
 * @param search - What to look for.
 * @returns A function of a message: whether it matches.
 * @example
 * ```ts
 * const matches = createMatcher({ text: '', role: '', tool: 'Bash' });
 * const found = history.filter(matches); // the Bash calls and their results
 * ```
 */
export function createMatcher(search: HistorySearch): (message: Message) => boolean {
  const text = search.text.trim().toLowerCase();
  const tool = search.tool.trim().toLowerCase();
  const callsOfTool = new Set<string>();
  return (message) => {
    if (tool !== '') {
      let found = false;
      for (const use of toolUses(message)) {
        if (use.name.toLowerCase() !== tool) continue;
        callsOfTool.add(use.id);
        found = true;
      }
      if (!found && typeof message.content !== 'string')
        found = message.content.some((b) => b.type === 'tool_result' && callsOfTool.has(b.tool_use_id));
      if (!found) return false;
    }
    if (search.role !== '' && message.role !== search.role) return false;
    return text === '' || messageText(message).toLowerCase().includes(text);
  };
}
