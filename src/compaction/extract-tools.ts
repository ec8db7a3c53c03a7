/**
 * What tool calls say about the work: which files were edited, written or read, which commands
 * ran and how they ended. Understands Anthropic tool_use inputs (Bash, Read, Edit, Write,
 * MultiEdit, TodoWrite, str_replace_editor...) and the string form of imported console transcripts
 * (`Bash(git status)`, `Update(README.md)`, `Shell pytest`, a command in a code fence).
 */

/** @internal What kind of tool a call is. */
export type ToolKind = 'command' | 'edit' | 'write' | 'read' | 'todo' | 'other';

/** @internal A tool call reduced to what the summary needs. */
export interface CallInfo {
  kind: ToolKind;
  /** Command line (commands) or `Tool target` (others): how failures and successes are matched. */
  label: string;
  /** File paths the call touched. */
  paths: string[];
  /** TodoWrite entries, when the call carries them. */
  todos: Array<{ content: string; status: string }>;
}

/** @internal How a tool call ended. */
export interface Outcome {
  ok: boolean;
  error?: string;
}

const MAX_LABEL = 120;
const COMMAND_TOOLS = new Set([
  'bash',
  'shell',
  'runshellcommand',
  'run',
  'exec',
  'execute',
  'terminal',
  'sh',
  'zsh',
  'python',
  'node',
  'rm',
  'command',
  'runcommand',
  'submit',
]);
const WRITE_TOOLS = new Set(['write', 'writefile', 'create', 'createfile', 'notebookwrite']);
const EDIT_TOOLS = new Set([
  'edit',
  'update',
  'multiedit',
  'notebookedit',
  'strreplace',
  'strreplaceeditor',
  'strreplacebasededittool',
  'applypatch',
  'replace',
  'editfile',
  'patch',
]);
const READ_TOOLS = new Set([
  'read',
  'readfile',
  'readmanyfiles',
  'open',
  'view',
  'cat',
  'glob',
  'grep',
  'search',
  'find',
  'findfile',
  'list',
  'ls',
  'readfolder',
  'listdir',
  'listfiles',
]);
const PATH_KEYS = ['file_path', 'filePath', 'path', 'notebook_path', 'filename', 'file'];

const EXTENSIONS =
  'ts|tsx|js|jsx|mjs|cjs|json|jsonc|md|mdx|py|pyi|rs|go|java|kt|rb|php|sh|bash|zsh|yml|yaml|toml|css|scss|less|html|txt|sql|swift|c|h|cc|cpp|hpp|cs|lock|ini|cfg|conf|env|vue|svelte|xml|csv|ipynb|gradle|proto|graphql|tf|dockerfile';
/** @internal Path-looking tokens: with a slash, or a file name with a known extension. */
export const PATH_RE = new RegExp(
  `(?:~|\\.{1,2})?(?:/?[\\w@+-][\\w@.+-]*/)+[\\w@+-][\\w@.+-]*|\\b[\\w@+-][\\w@.+-]*\\.(?:${EXTENSIONS})\\b`,
  'gi',
);

const ERROR_START = /^\s*(?:⎿\s*)?(?:error|fatal|failed|failure)\b/i;
const ERROR_ANY =
  /(Traceback \(most recent call last\)|npm ERR!|command not found|No such file or directory|Permission denied|exit(?:ed with)? (?:code|status) [1-9]|\b[1-9]\d* (?:failed|failing|errors?)\b|error TS\d+|\bFAIL\b|\bFAILED\b|SyntaxError|Segmentation fault|panicked at|^fatal:|ERR_[A-Z_]+)/m;
const FAILURE_WORD =
  /\b(fail(?:s|ed|ure|ing)?|errors?|exception|denied|not found|no tests ran|cannot|can'?t|unable|invalid|missing|refused|timed out)\b/i;
// Successful runs of these only look around; their failures still count.
const TRIVIAL_COMMAND =
  /^(ls|ll|cat|head|tail|pwd|echo|grep|rg|find|wc|which|tree|less|clear|date|whoami|git (status|diff|log|show|branch))\b/;

/** @internal The tool kind of a tool name (case, spaces and underscores ignored). */
export function toolKind(name: string, input: unknown): ToolKind {
  const bare = name.toLowerCase().replace(/[\s_-]+/g, '');
  if (bare.includes('todo')) return 'todo';
  if (bare === 'strreplaceeditor' || bare === 'strreplacebasededittool') {
    const command = field(input, 'command');
    if (command === 'view') return 'read';
    if (command === 'create') return 'write';
    return 'edit';
  }
  if (
    COMMAND_TOOLS.has(bare) ||
    (typeof field(input, 'command') === 'string' && !WRITE_TOOLS.has(bare) && !EDIT_TOOLS.has(bare))
  )
    return 'command';
  if (WRITE_TOOLS.has(bare)) return 'write';
  if (EDIT_TOOLS.has(bare)) return 'edit';
  if (READ_TOOLS.has(bare)) return 'read';
  return 'other';
}

/** @internal A tool_use block's name and input reduced to a {@link CallInfo}. */
export function describeCall(name: string, input: unknown): CallInfo {
  const kind = toolKind(name, input);
  const todos = kind === 'todo' ? todoEntries(input) : [];
  if (kind === 'command') {
    const command = field(input, 'command') ?? field(input, 'cmd') ?? field(input, 'script') ?? '';
    return { kind, label: normaliseCommand(command), paths: [], todos };
  }
  const paths: string[] = [];
  for (const key of PATH_KEYS) {
    const value = field(input, key);
    if (value !== undefined && value.trim() !== '') paths.push(value.trim());
  }
  if (paths.length === 0 && (kind === 'edit' || kind === 'write' || kind === 'read'))
    paths.push(...findPaths(safeString(input)).slice(0, 1));
  const target = paths[0] ?? firstValue(input);
  return { kind, label: clip(`${name}${target === '' ? '' : ` ${target}`}`), paths, todos };
}

/**
 * @internal A string-form call of an imported transcript: `Name(arg)…`, `Name arg`, or prose with
 * the command in its last code fence (SWE-agent). Returns the call and the prose around it.
 */
export function parseStringCall(toolName: string, content: string): { call: CallInfo; prose: string } {
  const text = content.trim().replace(/…$/, '');
  let arg = '';
  let prose = '';
  if (text.startsWith(`${toolName}(`)) {
    const close = text.lastIndexOf(')');
    arg = text.slice(toolName.length + 1, close > toolName.length ? close : undefined);
  } else if (text === toolName || text.startsWith(`${toolName} `)) {
    arg = text.slice(toolName.length).trim();
  } else {
    const fences = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```/g)];
    const last = fences[fences.length - 1];
    arg = last?.[1]?.trim().split('\n')[0] ?? '';
    prose = text;
  }
  const kind = toolKind(toolName, undefined);
  if (kind === 'command')
    return { call: { kind, label: normaliseCommand(arg), paths: [], todos: [] }, prose };
  const paths = kind === 'edit' || kind === 'write' || kind === 'read' ? findPaths(arg).slice(0, 1) : [];
  const target = paths[0] ?? arg.replace(/\s+/g, ' ').trim();
  return {
    call: { kind, label: clip(`${toolName}${target === '' ? '' : ` ${target}`}`), paths, todos: [] },
    prose,
  };
}

/**
 * @internal How a tool call ended, from its result text and error flag. `command` results are
 * also searched for failure patterns (tracebacks, `N failed`, exit codes); other tools print file
 * contents, so only an error flag or an output that starts with `Error` counts for them.
 */
export function outcomeOf(text: string, isError: boolean, command: boolean): Outcome {
  const head = text.length > 6_000 ? `${text.slice(0, 4_000)}\n${text.slice(-2_000)}` : text;
  const failed = isError || ERROR_START.test(head) || (command && ERROR_ANY.test(head));
  return failed ? { ok: false, error: errorLine(head) } : { ok: true };
}

/** The most telling line of a failed output: a known failure pattern, a failure word, else the first line. */
function errorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) =>
      line
        .replace(/^\s*⎿\s*/, '')
        .replace(/[=_*~-]{3,}|\.{4,}/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((line) => line !== '');
  const line =
    // A traceback's story is its last exception line (`AttributeError: ...`).
    lines.find((l) => /^(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception): /.test(l)) ??
    lines.find((l) => ERROR_ANY.test(l)) ??
    lines.find((l) => FAILURE_WORD.test(l.replace(/^(?:error|fatal):\s*/i, ''))) ??
    lines[0] ??
    'failed';
  return clip(line);
}

/** @internal Whether a successful run of `command` is not worth a statement (ls, cat, git status...). */
export function isTrivialCommand(command: string): boolean {
  return TRIVIAL_COMMAND.test(command);
}

/**
 * @internal A command on one line, at most 120 characters, without the set-up prefixes that vary
 * between runs of the same thing (`cd dir &&`, `source venv/bin/activate &&`), so that a later
 * success can be matched with an earlier failure.
 */
export function normaliseCommand(command: string): string {
  let flat = command.replace(/…$/, '').replace(/\s+/g, ' ').trim();
  for (let previous = ''; previous !== flat;) {
    previous = flat;
    flat = flat.replace(/^(?:cd|source|\.) [^&;|]+(?:&&|;)\s*/, '');
  }
  return clip(flat);
}

/** @internal Path-looking tokens of `text`, without trailing punctuation, de-duplicated. */
export function findPaths(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(PATH_RE)) {
    const path = match[0].replace(/[.,:;)]+$/, '');
    if (path.length >= 3 && !/^\d/.test(path) && !out.includes(path)) out.push(path);
  }
  return out;
}

/** @internal Cuts `text` to at most 120 characters with an ellipsis. */
export function clip(text: string, max = MAX_LABEL): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

function todoEntries(input: unknown): Array<{ content: string; status: string }> {
  const todos =
    input !== null && typeof input === 'object' ? (input as { todos?: unknown }).todos : undefined;
  if (!Array.isArray(todos)) return [];
  return todos.flatMap((todo: unknown) => {
    const content = field(todo, 'content');
    const status = field(todo, 'status') ?? 'pending';
    return content === undefined ? [] : [{ content, status }];
  });
}

function field(input: unknown, key: string): string | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const value = (input as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

function firstValue(input: unknown): string {
  if (input === null || typeof input !== 'object') return typeof input === 'string' ? clip(input, 60) : '';
  for (const value of Object.values(input))
    if (typeof value === 'string' && value.trim() !== '') return clip(value.replace(/\s+/g, ' ').trim(), 60);
  return '';
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  } catch {
    return '';
  }
}
