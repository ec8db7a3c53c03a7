/**
 * The evaluation's own reading of a raw transcript (`{ source, messages: [{ role, content,
 * toolName? }] }`, the shape of ../shared/transcripts): its messages, its tool calls paired with
 * their results, and what each call did. Deliberately written apart from the library: nothing here
 * imports src/compaction/ or the ledger, so that the probes cannot inherit the compactor's mistakes
 * (see docs/compaction.md, "Reading the evaluation").
 */
import { readFileSync } from 'node:fs';

/** One message of a raw transcript, with its position. */
export interface RawMessage {
  index: number;
  role: 'user' | 'assistant' | 'tool';
  content: string;
  toolName?: string;
}

/** A raw transcript as read from disk. */
export interface RawTranscript {
  file: string;
  messages: RawMessage[];
}

/** What a tool call did, as the probes see it. */
export type CallKind = 'command' | 'edit' | 'create' | 'read' | 'other';

/** How a call ended: `unknown` when its result is not in the transcript. */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** A tool call with its result. */
export interface RawCall {
  tool: string;
  callIndex: number;
  resultIndex: number | null;
  call: string;
  result: string | null;
  kind: CallKind;
  /** Commands: the command line as run, on one line. */
  command?: string;
  /** Edits, creations and reads: the file path. */
  path?: string;
  /** Anything else: the call's argument, on one line. */
  argument?: string;
  outcome: Outcome;
}

/** Reads a transcript file. Throws on anything that is not the expected shape. */
export function readRawTranscript(file: string): RawTranscript {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { messages?: unknown };
  if (!Array.isArray(doc.messages)) throw new Error(`${file}: no "messages" list`);
  const messages = doc.messages.map((raw: unknown, index): RawMessage => {
    const m = raw as { role?: unknown; content?: unknown; toolName?: unknown };
    if ((m.role !== 'user' && m.role !== 'assistant' && m.role !== 'tool') || typeof m.content !== 'string')
      throw new Error(`${file}: message ${index} is not { role, content }`);
    const out: RawMessage = { index, role: m.role, content: m.content };
    if (typeof m.toolName === 'string') out.toolName = m.toolName;
    return out;
  });
  return { file, messages };
}

/**
 * The tool calls of a transcript with their results. The data has no call ids: a result belongs to
 * the first pending call of the same tool, else to the first pending call (the pairing rule of
 * ../shared/transcripts/README.md). SWE-agent's `edit` applies to the file opened last, which its
 * results name (`[File: /path (N lines total)]`, `(Open file: /path)`).
 */
export function pairCalls(messages: readonly RawMessage[]): RawCall[] {
  const calls: RawCall[] = [];
  const pending: RawCall[] = [];
  let openFile: string | undefined;
  for (const m of messages) {
    if (m.role === 'assistant' && m.toolName !== undefined) {
      const call = describe(m.toolName, m.content);
      const entry: RawCall = {
        tool: m.toolName,
        callIndex: m.index,
        resultIndex: null,
        call: m.content,
        result: null,
        outcome: 'unknown',
        ...call,
      };
      calls.push(entry);
      pending.push(entry);
    } else if (m.role === 'tool') {
      const same = pending.findIndex((p) => p.tool === m.toolName);
      const [paired] = pending.splice(same >= 0 ? same : 0, 1);
      const opened = /\[File: (\S+) \(\d+ lines total\)\]|\(Open file: (\S+)\)/.exec(m.content);
      if (opened !== null) openFile = opened[1] ?? opened[2];
      if (paired === undefined) continue;
      paired.resultIndex = m.index;
      paired.result = m.content;
      paired.outcome = failed(m.content, paired.kind === 'command') ? 'fail' : 'ok';
      if (paired.kind === 'edit' && paired.path === undefined && openFile !== undefined)
        paired.path = openFile;
      // An edit the agent did not make (rejected, refused, no change) edits nothing.
      if ((paired.kind === 'edit' || paired.kind === 'create') && /No changes detected/.test(m.content))
        paired.kind = 'other';
    }
  }
  return calls;
}

/** One line, whitespace collapsed, without a trailing ellipsis. */
export function oneLine(text: string): string {
  return text.replace(/⎿/g, ' ').replace(/\s+/g, ' ').trim().replace(/…$/, '').trim();
}

/**
 * A command as the probes compare runs: one line, without the set-up prefixes that vary between
 * runs of the same thing (`cd dir &&`, `source venv/bin/activate &&`).
 */
export function normalCommand(command: string): string {
  let text = oneLine(command);
  for (let before = ''; before !== text;) {
    before = text;
    text = text.replace(/^(?:cd|source|\.)\s+[^&;|]+(?:&&|;)\s*/, '');
  }
  return text.slice(0, 200);
}

const INSPECTION = new RegExp(
  String.raw`^(?:ls|ll|cat|head|tail|pwd|echo|grep|rg|find|wc|which|tree|less|file|stat|date|whoami|cd)\b|` +
    String.raw`^git (?:status|diff|log|show|branch)\b`,
);

/** Whether a command only looks around (ls, cat, git status...): not a fact a resuming agent needs. */
export function isInspection(command: string): boolean {
  return INSPECTION.test(command);
}

const FAILURE_START = /^\s*(?:(?:⎿|Waiting…)\s*)*(?:Error\b|User rejected|Interrupted by user)/;
const FAILURE_ANY = new RegExp(
  String.raw`Traceback \(most recent call last\)|command not found|No such file or directory|` +
    String.raw`\b[1-9]\d* (?:failed|errors?)\b|^\s*FAILED\b|\bFAILED \[|exit code:? [1-9]|` +
    String.raw`Your proposed edit has introduced|^fatal:|npm ERR!|Permission denied`,
  'm',
);

/**
 * Whether a tool result reports a failure (the evaluation's own rule). Other tools print file
 * contents, which mention errors all the time: only a result that starts with an error counts.
 */
export function failed(result: string, command: boolean): boolean {
  const head = result.length > 8_000 ? `${result.slice(0, 5_000)}\n${result.slice(-3_000)}` : result;
  if (FAILURE_START.test(head) || /^Your proposed edit has introduced/.test(head)) return true;
  return command && FAILURE_ANY.test(head);
}

type Described = Pick<RawCall, 'kind' | 'command' | 'path' | 'argument'>;

/** What a call did, from its tool name and the call as the console showed it. */
function describe(tool: string, content: string): Described {
  const text = content.trim();
  // Claude Code console: `Tool(argument)…`; Gemini CLI console: `Tool argument`.
  const parens = text.startsWith(`${tool}(`) ? text.slice(tool.length + 1).replace(/\)?…?\s*$/, '') : null;
  const spaced = parens === null && text.startsWith(`${tool} `) ? text.slice(tool.length + 1) : null;
  const argument = oneLine(parens ?? spaced ?? '');
  switch (tool) {
    case 'Bash':
      return { kind: 'command', command: normalCommand(argument) };
    case 'Shell':
      // Gemini adds a description in parentheses after the command.
      return { kind: 'command', command: normalCommand(argument.replace(/\s\([A-Z][^()]*\)?$/, '')) };
    case 'Update':
    case 'Edit':
    case 'MultiEdit': {
      const path = argument
        .replace(/^file_path:\s*/, '')
        .replace(/:\s.*$/, '')
        .trim();
      if (path === '' || /^No file changes/.test(argument)) return { kind: 'other', argument };
      return { kind: 'edit', path };
    }
    case 'Write':
      return { kind: 'create', path: argument.replace(/^file_path:\s*/, '').trim() };
    case 'WriteFile':
      return { kind: 'create', path: argument.replace(/^Writing to\s+/, '').trim() };
    case 'Read':
    case 'ReadFile':
      return { kind: 'read', path: argument.replace(/^file_path:\s*/, '').trim() };
    default:
      return sweAgent(tool, text) ?? { kind: 'other', argument };
  }
}

const SWE_READS = new Set([
  'open',
  'goto',
  'scroll_up',
  'scroll_down',
  'search_file',
  'search_dir',
  'find_file',
]);

/** SWE-agent: prose, then the command in the last code fence; the tool name is its first word. */
function sweAgent(tool: string, text: string): Described | null {
  const fences = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```/g)];
  const last = fences[fences.length - 1]?.[1];
  if (last === undefined) return null;
  const line = oneLine(last.trim().split('\n')[0] ?? '');
  if (!line.startsWith(tool)) return null;
  const argument = line.slice(tool.length).trim();
  if (tool === 'edit') return { kind: 'edit' };
  if (tool === 'create') return { kind: 'create', path: argument };
  if (SWE_READS.has(tool)) return { kind: 'read', argument };
  if (tool === 'submit') return { kind: 'other', argument: 'submit' };
  return { kind: 'command', command: normalCommand(line) };
}
