/**
 * A tool call reduced to what the ledger records: what it did, the command it ran, the files it
 * touched. Structured inputs are read through the tool table; the console form of imported
 * transcripts (`Bash(git status)`, `Shell pytest (Run the tests)`, SWE-agent's fenced command,
 * Cursor's `Run command: ...`) is parsed here.
 */
import { clip } from './outcome.js';
import { entriesOf, type ToolAction, type ToolEntry } from './tool-table.js';

/** A file a call touched, and how. */
export interface FileTouch {
  path: string;
  action: 'read' | 'edit' | 'write' | 'create' | 'delete';
}

/** An entry of a todo list. */
export interface TodoItem {
  content: string;
  status: 'pending' | 'in_progress' | 'completed';
}

/** What a call did. */
export interface ToolCall {
  /** The tool's name as the log spells it. */
  tool: string;
  action: ToolAction;
  /** Commands: the command line on one line, set-up prefixes removed. */
  command?: string;
  files: FileTouch[];
  /** What identifies the call for other tools: `tool target`. */
  label: string;
  todos?: TodoItem[];
  /** SWE-agent's `edit` changes the file opened last: its path comes from the results. */
  editsOpenFile?: boolean;
}

/** Longest command or label kept, in characters. */
const MAX_LABEL = 160;
const SHELLS = new Set(['bash', 'sh', 'zsh', 'powershell', 'pwsh', 'cmd']);
const PATH_KEYS = [
  'file_path',
  'path',
  'target_file',
  'filePath',
  'absolute_path',
  'notebook_path',
  'filename',
];

/**
 * A structured tool call (a `tool_use` block's name and input) through the tool table. An imported
 * console transcript keeps the call as the console showed it in `input.call`: that is parsed with
 * {@link describeConsoleCall}. A tool the table does not know is `other`, labelled with its name
 * and first argument, so that its outcome still counts.
 *
 * @param name - the tool's name.
 * @param input - the call's input.
 * @returns what the call did.
 * @example
 * describeToolUse('run_terminal_cmd', { command: 'cd app && npm test' })
 * // { action: 'command', command: 'npm test', ... }
 */
export function describeToolUse(name: string, input: unknown): ToolCall {
  const call = field(input, 'call');
  if (typeof call === 'string') return describeConsoleCall(name, call);
  const entries = entriesOf(name);
  const entry = entries[0];
  if (entry === undefined) return other(name, firstString(input));
  const action = actionOf(entries, input);
  const base: ToolCall = { tool: name, action, files: [], label: name };
  if (action === 'command') {
    // Codex runs apply_patch as a command: `["apply_patch", "*** Begin Patch..."]`.
    const argv = field(input, 'command');
    if (Array.isArray(argv) && argv[0] === 'apply_patch' && typeof argv[1] === 'string') {
      const files = patchFiles([], argv[1]);
      return { ...base, action: 'edit', files, label: label('apply_patch', files[0]?.path ?? '') };
    }
    const command = commandOf(keysOf(entries, 'command'), input);
    return command === '' ? other(name, firstString(input)) : { ...base, command, label: command };
  }
  if (action === 'todo') return { ...base, todos: todosOf(input, entries) };
  const patched = patchFiles(keysOf(entries, 'patch'), input);
  const paths = patched.length > 0 ? [] : pathsOf([...keysOf(entries, 'path'), ...PATH_KEYS], input);
  const files: FileTouch[] = [
    ...patched,
    ...(action === 'other' || action === 'search' ? [] : paths.map((path) => ({ path, action }))),
  ];
  const target = files[0]?.path ?? paths[0] ?? firstString(input);
  return { ...base, files, label: label(name, target) };
}

/**
 * A call in the form a console transcript shows it: `Name(argument)…` (Claude Code), `Name
 * argument` (Gemini CLI; `Shell` adds a description in parentheses, `Edit` is `path: old =>
 * new`, `WriteFile` is `Writing to path`), `Run command: ...` / `Edit file: path` (Cursor's
 * exports), or prose with the command in its last code fence (SWE-agent).
 *
 * @param tool - the tool's name (the transcript's `toolName`).
 * @param text - the call as shown.
 * @returns what the call did.
 * @example describeConsoleCall('Bash', 'Bash(cd /repo && pytest specs/)…').command // 'pytest specs/'
 */
export function describeConsoleCall(tool: string, text: string): ToolCall {
  const shown = text.trim();
  const swe = sweAgent(tool, shown);
  if (swe !== null) return swe;
  const argument = oneLine(consoleArgument(tool, shown));
  const entries = entriesOf(tool);
  const action: ToolAction = entries[0]?.action ?? 'other';
  const base: ToolCall = { tool, action, files: [], label: label(tool, argument) };
  switch (action) {
    case 'command': {
      const command = normaliseCommand(stripDescription(argument));
      return command === '' ? { ...base, action: 'other' } : { ...base, command, label: command };
    }
    case 'edit':
    case 'write':
    case 'create':
    case 'delete':
    case 'read': {
      if (/^No file changes/i.test(argument)) return { ...base, action: 'other' };
      const path = consolePath(argument);
      // ReadManyFiles shows a sentence, not a path.
      if (!/[/.]/.test(path) || /^https?:/.test(path)) return base;
      return { ...base, files: [{ path, action }], label: label(tool, path) };
    }
    default:
      return base;
  }
}

/**
 * A command on one line, at most 160 characters, without the set-up prefixes that vary between
 * runs of the same thing (`cd dir &&`, `source venv/bin/activate &&`), so that a later run can be
 * matched with an earlier one.
 *
 * @param command - a command line.
 * @returns the normalised command ('' for a blank one).
 * @example normaliseCommand('cd /repo && source .venv/bin/activate && pytest -x') // 'pytest -x'
 */
export function normaliseCommand(command: string): string {
  let flat = oneLine(command);
  for (let previous = ''; previous !== flat;) {
    previous = flat;
    flat = flat.replace(/^(?:cd|source|\.)\s+[^&;|]+(?:&&|;)\s*/, '');
  }
  return clip(flat, MAX_LABEL);
}

/** The action of a call: a subcommand's (`str_replace_editor` `view` is a read), else the row's. */
function actionOf(entries: readonly ToolEntry[], input: unknown): ToolAction {
  for (const entry of entries) {
    if (entry.subcommand === undefined) continue;
    const value = field(input, entry.subcommand.key);
    const action = typeof value === 'string' ? entry.subcommand.actions[value] : undefined;
    if (action !== undefined) return action;
  }
  return entries[0]?.action ?? 'other';
}

function keysOf(entries: readonly ToolEntry[], kind: 'command' | 'path' | 'patch'): string[] {
  return [...new Set(entries.flatMap((entry) => entry[kind] ?? []))];
}

/** The command of a call: a string, or an argv list (`["bash", "-lc", "npm test"]` is `npm test`). */
function commandOf(keys: readonly string[], input: unknown): string {
  for (const key of keys) {
    const value = field(input, key);
    if (typeof value === 'string' && value.trim() !== '') return normaliseCommand(value);
    if (Array.isArray(value) && value.every((part) => typeof part === 'string') && value.length > 0) {
      const argv = value as string[];
      const shell = SHELLS.has((argv[0] ?? '').replace(/^.*\//, '')) && /^-\w*c$/.test(argv[1] ?? '');
      return normaliseCommand(shell ? argv.slice(2).join(' ') : argv.join(' '));
    }
  }
  return '';
}

/**
 * A path as the ledger keeps it: trimmed, quotes and a leading `./` removed, repeated slashes
 * collapsed (`stories//a.yaml` is `stories/a.yaml`).
 *
 * @param path - a path as a tool or a console showed it.
 * @returns the path ('' for none).
 * @example normalisePath(' ./src//a.ts ') // 'src/a.ts'
 */
export function normalisePath(path: string): string {
  return path
    .trim()
    .replace(/^["'`]|["'`,]$/g, '')
    .replace(/^\.\/(?=.)/, '')
    .replace(/(?<!:)\/{2,}/g, '/');
}

function pathsOf(keys: readonly string[], input: unknown): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const value = field(input, key);
    const list = Array.isArray(value) ? value : [value];
    for (const item of list)
      if (typeof item === 'string' && item.trim() !== '') out.push(normalisePath(item));
    if (out.length > 0) return [...new Set(out)];
  }
  return out;
}

/** The files an apply_patch text names: `*** Add File:`, `*** Update File:` (`*** Move to:`), `*** Delete File:`. */
function patchFiles(keys: readonly string[], input: unknown): FileTouch[] {
  const text =
    typeof input === 'string'
      ? input
      : keys.map((key) => field(input, key)).find((v) => typeof v === 'string');
  if (typeof text !== 'string') return [];
  const files: FileTouch[] = [];
  for (const match of text.matchAll(/^\*\*\* (Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/gm)) {
    if (match[3] !== undefined) {
      files.push({ path: normalisePath(match[3]), action: 'create' });
      continue;
    }
    const action = match[1] === 'Add' ? 'create' : match[1] === 'Delete' ? 'delete' : 'edit';
    files.push({ path: normalisePath(match[2] ?? ''), action });
  }
  return files;
}

function todosOf(input: unknown, entries: readonly ToolEntry[]): TodoItem[] {
  const key = entries.find((entry) => entry.todos !== undefined)?.todos ?? 'todos';
  const list = field(input, key);
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown): TodoItem[] => {
    const content =
      field(item, 'content') ?? field(item, 'step') ?? field(item, 'title') ?? field(item, 'description');
    if (typeof content !== 'string' || content.trim() === '') return [];
    const status = String(field(item, 'status') ?? 'pending').toLowerCase();
    const normal =
      status === 'completed' || status === 'done'
        ? 'completed'
        : status === 'in_progress' || status === 'in-progress'
          ? 'in_progress'
          : 'pending';
    return [{ content: oneLine(content), status: normal }];
  });
}

/** SWE-agent: the tool's name is the first word of the command in the reply's last code fence. */
function sweAgent(tool: string, text: string): ToolCall | null {
  const fences = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```/g)];
  const fenced = fences[fences.length - 1]?.[1];
  if (fenced === undefined || text.startsWith(`${tool}(`) || text.startsWith(`${tool} `)) return null;
  const line = oneLine(fenced.trim().split('\n')[0] ?? '');
  if (!line.startsWith(tool)) return null;
  const argument = line.slice(tool.length).trim();
  const entry = entriesOf(tool).find((e) => e.agent === 'swe-agent');
  if (entry === undefined) {
    const command = normaliseCommand(line);
    return { tool, action: 'command', command, files: [], label: command };
  }
  const base: ToolCall = { tool, action: entry.action, files: [], label: label(tool, argument) };
  if (entry.action === 'edit') return { ...base, editsOpenFile: true };
  const path = normalisePath(argument.split(/\s+/)[0] ?? '');
  if ((entry.action === 'create' || entry.action === 'read') && path !== '')
    return { ...base, files: [{ path, action: entry.action }], label: label(tool, path) };
  return base;
}

/** The argument of a console call: inside `Name(...)`, after `Name `, or after a `Label:` line. */
function consoleArgument(tool: string, text: string): string {
  const shown = text.replace(/…\s*$/, '');
  if (shown.startsWith(`${tool}(`)) return shown.slice(tool.length + 1).replace(/\)\s*$/, '');
  if (shown.startsWith(`${tool} `)) return shown.slice(tool.length + 1);
  const labelled =
    /^(?:Run command|Ran command|Command|(?:Read|Edit|Create|Delete|Write) file):\s*(.+)$/im.exec(shown);
  if (labelled?.[1] !== undefined) return labelled[1];
  const fenced = /```(?:bash|sh|shell|zsh)?\n([\s\S]*?)```/.exec(shown)?.[1];
  return fenced ?? shown.split('\n').find((line) => line.trim() !== '') ?? '';
}

/** A console argument's path: `file_path: X`, `X: old => new` (Gemini's Edit), `Writing to X`. */
function consolePath(argument: string): string {
  const text = argument
    .replace(/^(?:file_path|path|target_file):\s*/, '')
    .replace(/^Writing to\s+/, '')
    .trim();
  const path = /^(\S+?):\s/.test(text) ? text.slice(0, text.indexOf(': ')) : (text.split(/\s+/)[0] ?? '');
  return normalisePath(path);
}

/** Gemini shows a description in parentheses after the command: `git status (Check the tree.)`. */
function stripDescription(command: string): string {
  return command.replace(/\s\([A-Z][^()]*\)?$/, '');
}

function other(tool: string, argument: string): ToolCall {
  return { tool, action: 'other', files: [], label: label(tool, argument) };
}

function label(tool: string, target: string): string {
  const flat = oneLine(target);
  return clip(flat === '' ? tool : `${tool} ${flat}`, MAX_LABEL);
}

function oneLine(text: string): string {
  return text.replace(/⎿/g, ' ').replace(/\s+/g, ' ').trim();
}

function field(input: unknown, key: string): unknown {
  return input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[key] : undefined;
}

function firstString(input: unknown): string {
  if (typeof input === 'string') return clip(oneLine(input), 60);
  if (input === null || typeof input !== 'object') return '';
  for (const value of Object.values(input))
    if (typeof value === 'string' && value.trim() !== '') return clip(oneLine(value), 60);
  return '';
}
