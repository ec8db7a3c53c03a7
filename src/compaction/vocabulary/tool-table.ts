/**
 * What the tools of each agent do, as data: which tools run commands, edit, write, create, delete,
 * read, search or keep a todo list, and where in a call's input the command and the paths are.
 * One row per tool of one agent; {@link describeToolUse} reads the table, so supporting a new
 * agent is a new row, not new code. Sources of every row: fixtures/vocabulary/README.md.
 */

/** What a tool call does to the work. */
export type ToolAction =
  | 'command'
  /** Changes part of a file. */
  | 'edit'
  /** Writes a whole file: creates it, or replaces it. */
  | 'write'
  /** Creates a file that did not exist. */
  | 'create'
  | 'delete'
  | 'read'
  /** Lists, globs, greps: looks for files or text. */
  | 'search'
  | 'todo'
  | 'other';

/** The agents whose logs users import. */
export type AgentName =
  | 'claude-code'
  | 'cursor'
  | 'aider'
  | 'gemini-cli'
  | 'codex-cli'
  | 'swe-agent'
  | 'openhands'
  | 'messages-api';

/** One tool of one agent. */
export interface ToolEntry {
  agent: AgentName;
  /** The tool's names in the agent's logs (its API name, and the name its console shows). */
  names: readonly string[];
  action: ToolAction;
  /** Input keys holding the command: a command line, or an argv list (`["bash", "-lc", "..."]`). */
  command?: readonly string[];
  /** Input keys holding the path, or a list of paths. */
  path?: readonly string[];
  /** A multi-purpose editor: the input key whose value picks the action (`view`, `create`...). */
  subcommand?: { key: string; actions: Readonly<Record<string, ToolAction>> };
  /** Input keys holding an apply_patch text (`*** Update File: path`), which names its own files. */
  patch?: readonly string[];
  /** Input key holding a todo list (`[{ content, status }]`). */
  todos?: string;
}

const EDITOR_COMMANDS = {
  view: 'read',
  create: 'create',
  str_replace: 'edit',
  insert: 'edit',
  undo_edit: 'edit',
} as const satisfies Record<string, ToolAction>;

/**
 * The tools of the agents whose logs users import. A name may appear for several agents (Cursor's
 * and OpenHands' `edit_file`); such rows agree on the action and their input keys are all tried.
 */
export const TOOL_TABLE: readonly ToolEntry[] = [
  // Claude Code: tool_use inputs of its .jsonl logs; names as its console shows them.
  { agent: 'claude-code', names: ['Bash'], action: 'command', command: ['command'] },
  {
    agent: 'claude-code',
    names: ['Read', 'NotebookRead'],
    action: 'read',
    path: ['file_path', 'notebook_path'],
  },
  {
    agent: 'claude-code',
    names: ['Edit', 'MultiEdit', 'NotebookEdit', 'Update'],
    action: 'edit',
    path: ['file_path', 'notebook_path'],
  },
  { agent: 'claude-code', names: ['Write'], action: 'write', path: ['file_path'] },
  { agent: 'claude-code', names: ['Glob', 'Grep', 'LS', 'List', 'Search'], action: 'search', path: ['path'] },
  { agent: 'claude-code', names: ['TodoWrite', 'Update Todos'], action: 'todo', todos: 'todos' },
  // Cursor agent mode.
  { agent: 'cursor', names: ['run_terminal_cmd'], action: 'command', command: ['command'] },
  { agent: 'cursor', names: ['read_file'], action: 'read', path: ['target_file', 'file_path'] },
  {
    agent: 'cursor',
    names: ['edit_file', 'search_replace'],
    action: 'edit',
    path: ['target_file', 'file_path'],
  },
  { agent: 'cursor', names: ['delete_file'], action: 'delete', path: ['target_file'] },
  {
    agent: 'cursor',
    names: ['list_dir', 'codebase_search', 'grep_search', 'file_search', 'grep'],
    action: 'search',
    path: ['relative_workspace_path'],
  },
  { agent: 'cursor', names: ['todo_write'], action: 'todo', todos: 'todos' },
  // Aider has no tool calls: its commands are chat commands, its edits lines of its output
  // (see TEXT_PATTERNS); `/run` and `/test` are listed for completeness of the vocabulary.
  { agent: 'aider', names: ['/run', '/test'], action: 'command' },
  // Gemini CLI: API names and console display names.
  {
    agent: 'gemini-cli',
    names: ['run_shell_command', 'Shell'],
    action: 'command',
    command: ['command'],
  },
  {
    agent: 'gemini-cli',
    names: ['read_file', 'ReadFile'],
    action: 'read',
    path: ['file_path', 'absolute_path', 'path'],
  },
  {
    agent: 'gemini-cli',
    names: ['read_many_files', 'ReadManyFiles'],
    action: 'read',
    path: ['paths', 'include'],
  },
  { agent: 'gemini-cli', names: ['write_file', 'WriteFile'], action: 'write', path: ['file_path'] },
  { agent: 'gemini-cli', names: ['replace', 'Edit'], action: 'edit', path: ['file_path'] },
  {
    agent: 'gemini-cli',
    names: [
      'list_directory',
      'ReadFolder',
      'glob',
      'FindFiles',
      'grep_search',
      'search_file_content',
      'SearchText',
    ],
    action: 'search',
    path: ['dir_path', 'path'],
  },
  { agent: 'gemini-cli', names: ['write_todos'], action: 'todo', todos: 'todos' },
  // OpenAI Codex CLI: function calls of its rollout .jsonl files.
  { agent: 'codex-cli', names: ['shell', 'container.exec'], action: 'command', command: ['command'] },
  { agent: 'codex-cli', names: ['shell_command'], action: 'command', command: ['command'] },
  { agent: 'codex-cli', names: ['exec_command'], action: 'command', command: ['cmd'] },
  { agent: 'codex-cli', names: ['apply_patch'], action: 'edit', patch: ['input', 'patch'] },
  { agent: 'codex-cli', names: ['update_plan'], action: 'todo', todos: 'plan' },
  // SWE-agent: the command in the last code fence of its reply (see describeConsoleCall).
  { agent: 'swe-agent', names: ['edit'], action: 'edit' },
  { agent: 'swe-agent', names: ['create'], action: 'create' },
  {
    agent: 'swe-agent',
    names: ['open', 'goto', 'scroll_up', 'scroll_down'],
    action: 'read',
  },
  { agent: 'swe-agent', names: ['find_file', 'search_file', 'search_dir'], action: 'search' },
  { agent: 'swe-agent', names: ['submit'], action: 'other' },
  // OpenHands (CodeAct agent).
  {
    agent: 'openhands',
    names: ['execute_bash', 'execute_powershell', 'execute_ipython_cell'],
    action: 'command',
    command: ['command', 'code'],
  },
  {
    agent: 'openhands',
    names: ['str_replace_editor'],
    action: 'edit',
    path: ['path'],
    subcommand: { key: 'command', actions: EDITOR_COMMANDS },
  },
  { agent: 'openhands', names: ['edit_file'], action: 'edit', path: ['path'] },
  { agent: 'openhands', names: ['task_tracker'], action: 'todo', todos: 'task_list' },
  // The Messages API's own tools (Anthropic-defined bash and text editor).
  { agent: 'messages-api', names: ['bash'], action: 'command', command: ['command'] },
  {
    agent: 'messages-api',
    names: ['str_replace_based_edit_tool', 'text_editor'],
    action: 'edit',
    path: ['path'],
    subcommand: { key: 'command', actions: EDITOR_COMMANDS },
  },
  { agent: 'messages-api', names: ['code_execution'], action: 'command', command: ['code', 'command'] },
];

/**
 * Aider writes no tool calls: what it ran and edited is text. These patterns find it in any
 * message (its chat history prefixes tool output with `> `).
 */
export const AIDER_PATTERNS = {
  /** The user message Aider adds after `/run` or `/test` (aider/prompts.py `run_output`). */
  runOutput: /^I ran this command:\n\n([\s\S]*?)\n\nAnd got this output:\n\n([\s\S]*)$/,
  /** A chat command the user typed: `/run cmd`, `/test cmd`, `!cmd`. */
  chatCommand: /^(?:#{4}\s+)?(?:\/(?:run|test)\s+|!)(\S.*)$/,
  applied: /^>?\s*Applied edit to (\S.*?)\s*$/gm,
  failed: /^>?\s*Failed to apply edit to (\S.*?)\s*$/gm,
} as const;

/**
 * A tool name as the table looks it up: lower case, letters and digits only (and `.`, `/`, `!`).
 *
 * @param name - a tool name as a log spells it.
 * @returns the key.
 * @example toolKey('Update Todos') // 'updatetodos'
 */
export function toolKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9./!]/g, '');
}

const BY_NAME = new Map<string, ToolEntry[]>();
for (const entry of TOOL_TABLE) {
  for (const name of entry.names) {
    const key = toolKey(name);
    BY_NAME.set(key, [...(BY_NAME.get(key) ?? []), entry]);
  }
}

/**
 * The rows of a tool name, for every agent that has it; empty for an unknown tool.
 *
 * @param name - a tool name as a log spells it (case, spaces and underscores do not matter).
 * @returns the rows.
 * @example entriesOf('run_terminal_cmd')[0]?.action // 'command'
 */
export function entriesOf(name: string): readonly ToolEntry[] {
  return BY_NAME.get(toolKey(name)) ?? [];
}
