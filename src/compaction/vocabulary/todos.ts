/**
 * The agent's todo list: the last list a todo tool wrote (TodoWrite, todo_write, write_todos,
 * update_plan, task_tracker), from its input or, in console transcripts, from the checkboxes its
 * result prints (☐ pending, ☒ done). Each list replaces the one before.
 */
import type { ContentBlock, Message } from '../../core/types.js';
import { toolResultText } from '../../request/format.js';
import { describeToolUse, type TodoItem, type ToolCall } from './describe-call.js';
import { entriesOf } from './tool-table.js';

const CHECKBOX = /^\s*(?:⎿\s*)?(☐|☒|✓|✔|\[[ xX]\])\s+(.+?)\s*$/gm;

/**
 * The todo list of a todo tool's call: its input's list, else the checkboxes of its result.
 *
 * @param call - a described call (`action: 'todo'`).
 * @param result - the text of its result, or null.
 * @returns the list; empty when the call carries none.
 * @example
 * todoListOf(call, '☒ Read the spec\n☐ Write the parser')
 * // [{ content: 'Read the spec', status: 'completed' }, ...]
 */
export function todoListOf(call: ToolCall, result: string | null): TodoItem[] {
  if (call.todos !== undefined && call.todos.length > 0) return call.todos;
  return result === null ? [] : checklist(result);
}

/**
 * The checkbox lines of a text (☐ pending; ☒, ✓, [x] done), as a console prints a todo list.
 *
 * @param text - a todo tool's output.
 * @returns the items, in order.
 * @example
 * checklist('☒ Read the spec\n☐ Write the parser')
 * // [{ content: 'Read the spec', status: 'completed' }, { content: 'Write the parser', status: 'pending' }]
 */
export function checklist(text: string): TodoItem[] {
  return [...text.matchAll(CHECKBOX)].map((match) => ({
    content: (match[2] ?? '').replace(/\s+/g, ' '),
    status: match[1] === '☐' || match[1] === '[ ]' ? 'pending' : 'completed',
  }));
}

/**
 * The last todo list written in `messages`, or null when none is: the agent's plan as it stands.
 *
 * @param messages - messages, oldest first.
 * @returns the newest list (calls paired with their results by id).
 * @example latestTodoList(messages)?.filter((t) => t.status === 'in_progress')
 */
export function latestTodoList(messages: readonly Message[]): TodoItem[] | null {
  const calls = new Map<string, ToolCall>();
  let latest: TodoItem[] | null = null;
  for (const message of messages) {
    if (message === null || typeof message !== 'object' || !Array.isArray(message.content)) continue;
    for (const block of message.content as ContentBlock[]) {
      if (block?.type === 'tool_use' && typeof block.id === 'string') {
        const name = String(block.name ?? '');
        if (!mayKeepTodos(name)) continue; // most calls: not described (the ledger describes them all)
        const call = describeToolUse(name, block.input);
        if (call.action !== 'todo') continue;
        calls.set(block.id, call);
        if (call.todos !== undefined && call.todos.length > 0) latest = call.todos;
      } else if (block?.type === 'tool_result' && typeof block.tool_use_id === 'string') {
        const call = calls.get(block.tool_use_id);
        if (call === undefined || (call.todos?.length ?? 0) > 0) continue;
        const list = checklist(toolResultText(block.content));
        if (list.length > 0) latest = list;
      }
    }
  }
  return latest;
}

/** Tool names seen, and whether a call of theirs can be a todo tool's. */
const todoNames = new Map<string, boolean>();

/**
 * @internal Whether a call of the tool `name` can be described as a todo tool's: only a row of the
 * tool table whose action, or one of its subcommands' actions, is `todo` makes one (a structured
 * call's, a console call's and SWE-agent's descriptions all take their action from the rows of
 * `name`). Remembered by name.
 * @example mayKeepTodos('TodoWrite') // true; mayKeepTodos('Bash') // false
 */
export function mayKeepTodos(name: string): boolean {
  let may = todoNames.get(name);
  if (may === undefined) {
    may = entriesOf(name).some(
      (entry) =>
        entry.action === 'todo' ||
        Object.values(entry.subcommand?.actions ?? {}).some((action) => action === 'todo'),
    );
    if (todoNames.size >= 1_000) todoNames.clear();
    todoNames.set(name, may);
  }
  return may;
}
