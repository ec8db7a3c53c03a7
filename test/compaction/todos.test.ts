/**
 * The offline compactor's todo list (`latestTodoList`) describes only the calls of tools that can
 * keep a todo list (`mayKeepTodos`): the ledger describes every call already, and describing them
 * all a second time was about 20 ms of the replay's main thread. On baseline-stop23 every call's
 * input was read.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { describeToolUse } from '../../src/compaction/vocabulary/describe-call.js';
import { TOOL_TABLE } from '../../src/compaction/vocabulary/tool-table.js';
import { latestTodoList, mayKeepTodos } from '../../src/compaction/vocabulary/todos.js';

const message = (seq: number, role: Message['role'], content: Message['content']): Message => ({
  id: `m${seq}`,
  seq,
  role,
  content,
  timestamp: '2026-01-01T00:00:00.000Z',
  tokens: 1,
});

/** An input that counts the reads of its fields. */
function watched(fields: Record<string, unknown>): { input: object; reads: () => number } {
  let reads = 0;
  const input = new Proxy(fields, {
    get(target, key, receiver) {
      reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { input, reads: () => reads };
}

describe('latestTodoList', () => {
  it('reads only the calls of tools that keep a todo list, and finds the same list', () => {
    const bash = watched({ command: 'npm test' });
    const edit = watched({ file_path: 'src/a.ts', old_string: 'a', new_string: 'b' });
    const todos = [
      { content: 'Write the parser', status: 'completed' },
      { content: 'Run the tests', status: 'in_progress' },
    ];
    const messages = [
      message(0, 'assistant', [
        { type: 'tool_use', id: 't1', name: 'Bash', input: bash.input },
        { type: 'tool_use', id: 't2', name: 'Edit', input: edit.input },
        { type: 'tool_use', id: 't3', name: 'TodoWrite', input: { todos } },
      ]),
      message(1, 'user', [
        { type: 'tool_result', tool_use_id: 't1', content: '☐ not a todo list' },
        { type: 'tool_result', tool_use_id: 't2', content: 'edited' },
        { type: 'tool_result', tool_use_id: 't3', content: 'ok' },
      ]),
    ];
    expect(latestTodoList(messages)).toEqual(todos);
    // Before: both inputs were described (`call`, then the table's keys were read).
    expect([bash.reads(), edit.reads()]).toEqual([0, 0]);
  });

  it('still reads a console todo list from its checkboxes', () => {
    const messages = [
      message(0, 'assistant', [
        { type: 'tool_use', id: 'c1', name: 'Update Todos', input: { call: 'Update Todos' } },
      ]),
      message(1, 'user', [
        { type: 'tool_result', tool_use_id: 'c1', content: '☒ Read the spec\n☐ Write the parser' },
      ]),
    ];
    expect(latestTodoList(messages)).toEqual([
      { content: 'Read the spec', status: 'completed' },
      { content: 'Write the parser', status: 'pending' },
    ]);
  });
});

describe('mayKeepTodos', () => {
  it('holds for every tool whose call can be described as a todo call, in any form', () => {
    const names = [...TOOL_TABLE.flatMap((entry) => entry.names), 'Unknown', 'todo', ''];
    const variants = (name: string) => [
      name,
      name.toLowerCase(),
      name.toUpperCase(),
      name.replace(/ /g, '_'),
    ];
    const subcommands = [...new Set(TOOL_TABLE.flatMap((e) => Object.keys(e.subcommand?.actions ?? {})))];
    const inputs = (name: string): unknown[] => [
      {},
      null,
      'text',
      { todos: [{ content: 'x', status: 'pending' }], plan: [{ step: 'x', status: 'pending' }] },
      ...subcommands.map((command) => ({ command, path: 'a.ts' })),
      { call: `${name}(☐ x)` },
      { call: `${name} x` },
      { call: `Some prose.\n\`\`\`\n${name} a.ts\n\`\`\`` },
    ];
    let todoCalls = 0;
    for (const name of names.flatMap(variants))
      for (const input of inputs(name)) {
        if (describeToolUse(name, input).action !== 'todo') continue;
        todoCalls++;
        expect(mayKeepTodos(name), name).toBe(true);
      }
    expect(todoCalls).toBeGreaterThan(0);
    expect(mayKeepTodos('Bash')).toBe(false);
    expect(mayKeepTodos('str_replace_editor')).toBe(false);
  });
});
