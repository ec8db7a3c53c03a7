/**
 * Recording messages into a ledger: the user's words, and what every tool call did and how it
 * ended, read through the tool vocabularies. Tool calls are paired with their results by id;
 * Aider's runs and edits are read from its text. The agent's prose is never recorded: what it
 * says it did is not evidence, what its tools did is.
 */
import type { SessionLedger } from '../../core/ledger-types.js';
import type { ContentBlock, Message } from '../../core/types.js';
import { toolResultText } from '../../request/format.js';
import { describeToolUse, type TodoItem, type ToolCall } from '../vocabulary/describe-call.js';
import { outcomeOf, type Outcome } from '../vocabulary/outcome.js';
import { AIDER_PATTERNS } from '../vocabulary/tool-table.js';
import { todoListOf } from '../vocabulary/todos.js';
import { normaliseCommand } from '../vocabulary/describe-call.js';
import { LedgerBuilder } from './ledger-builder.js';
import { namesIn } from './names.js';
import { blockerStatement, isCorrection, settledBy, userWords } from './user-words.js';

/** A path-looking token with a file extension, as prose names files. */
const PATH_IN_PROSE = /(?:[\w@.-]+\/)*[\w@-][\w@.-]*\.[A-Za-z][\w]{0,7}\b/g;
/** What every match of PATH_IN_PROSE holds: a dot and a letter (the extension). */
const EXTENSION = /\.[A-Za-z]/g;
/** Longest input string searched for names: longer ones are file bodies, not calls. */
const MAX_INPUT_STRING = 400;
const OPEN_FILE = /\[File: (\S+) \(\d+ lines total\)\]|\(Open file: (\S+)\)/;

/**
 * Records `messages` (oldest first) into `ledger` and returns the new ledger; `ledger` is not
 * changed. Messages at or before the ledger's `throughSeq` were recorded already and are skipped,
 * so recording the same messages twice changes nothing.
 *
 * @param ledger - the ledger so far (null for none).
 * @param messages - the messages to record, oldest first.
 * @returns the ledger with their facts.
 * @example
 * ```ts
 * const ledger = recordMessages(checkpoint.ledger ?? null, foldedMessages);
 * ledger.problems; // [{ key: 'npm test', text: '`npm test` failed (exit 1): ...', ... }]
 * ```
 */
export function recordMessages(
  ledger: SessionLedger | null | undefined,
  messages: readonly Message[],
): SessionLedger {
  const builder = new LedgerBuilder(ledger);
  const from = builder.throughSeq;
  const pending = new Map<string, { call: ToolCall; seq: number }>();
  let openFile: string | undefined;
  let mentioned: string | undefined;
  for (const message of messages) {
    if (message === null || typeof message !== 'object' || message.seq <= from) continue;
    const seq = message.seq;
    const names: string[] = [];
    for (const text of textsOf(message)) {
      // Tool output in the user's turn, and a harness's own prompt (`metadata.harness`: a task
      // loop's iteration prompt), are not the user's words.
      if (message.role === 'user' && !notUserWords(message)) {
        recordUser(builder, text, seq);
        names.push(...namesIn(userWords(text)));
      }
      recordAider(builder, text, seq);
      if (message.role === 'assistant') {
        mentioned = lastPath(text) ?? mentioned;
        names.push(...namesIn(text));
      }
    }
    if (message.role === 'user' && typeof message.content === 'string') mentioned = undefined;
    for (const block of blocksOf(message)) {
      if (block.type === 'tool_use' && typeof block.id === 'string') {
        const call = describeToolUse(String(block.name ?? 'tool'), block.input);
        names.push(...inputStrings(block.input).flatMap(namesIn));
        // Cursor's exported edits name their file only in the sentence before.
        if (call.files.length === 0 && !call.editsOpenFile && mentioned !== undefined && writes(call)) {
          call.files.push({ path: mentioned, action: call.action as 'edit' });
          mentioned = undefined;
        }
        pending.set(block.id, { call, seq });
      } else if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
        const text = toolResultText(block.content);
        const opened = OPEN_FILE.exec(text);
        if (opened !== null) openFile = opened[1] ?? opened[2];
        const call = pending.get(block.tool_use_id)?.call;
        if (call === undefined) continue;
        pending.delete(block.tool_use_id);
        if (call.editsOpenFile && call.files.length === 0 && openFile !== undefined)
          call.files.push({ path: openFile, action: 'edit' });
        applyCall(builder, call, text, block.is_error === true, seq);
      }
    }
    if (names.length > 0) builder.names(names, seq);
    builder.seen(seq);
  }
  // Calls whose result is not among the messages: they ran, with an unknown outcome.
  for (const { call, seq } of pending.values()) applyCall(builder, call, null, false, seq);
  return builder.result();
}

/** A user-role message whose text is not the user's own words: orphan tool output, a harness's prompt. */
function notUserWords(message: Message): boolean {
  return message.metadata?.['orphanToolResult'] === true || message.metadata?.['harness'] === true;
}

/** The user's words: a request (or correction), maybe a blocker, maybe problems settled. */
function recordUser(builder: LedgerBuilder, text: string, seq: number): void {
  if (AIDER_PATTERNS.runOutput.test(text)) return;
  const words = userWords(text);
  if (words === '') return;
  builder.request(words, seq, isCorrection(words));
  builder.settle(settledBy(words, builder.openProblems()));
  const blocker = blockerStatement(words);
  if (blocker === 'blocks') builder.fail(`user:${seq}`, `user: ${words}`, seq);
  if (blocker === 'unblocks')
    builder.settle(
      builder
        .openProblems()
        .filter((p) => p.key.startsWith('user:'))
        .map((p) => p.key),
    );
}

/**
 * Aider: `I ran this command: ... And got this output: ...`, `Applied edit to path`, `Failed to apply
 * edit to path`.
 */
function recordAider(builder: LedgerBuilder, text: string, seq: number): void {
  const run = AIDER_PATTERNS.runOutput.exec(text);
  if (run !== null) {
    const command = normaliseCommand(run[1] ?? '');
    if (command !== '')
      builder.run({
        command,
        kind: 'command',
        problemKey: command,
        outcome: outcomeOf(run[2] ?? '', false, true),
        seq,
      });
  }
  // Each pattern holds its words verbatim: text without them is not scanned line by line.
  if (text.includes('Applied edit to '))
    for (const match of text.matchAll(AIDER_PATTERNS.applied)) builder.file(match[1] ?? '', 'edited', seq);
  if (!text.includes('Failed to apply edit to ')) return;
  for (const match of text.matchAll(AIDER_PATTERNS.failed)) {
    const path = match[1] ?? '';
    builder.fail(`write:${path}`, `edit of ${path} failed: Aider could not apply it`, seq);
  }
}

/** Applies a call and its result (null when it has none). */
function applyCall(
  builder: LedgerBuilder,
  call: ToolCall,
  result: string | null,
  isError: boolean,
  seq: number,
): void {
  const outcome: Outcome =
    result === null ? { status: 'unknown' } : outcomeOf(result, isError, call.action === 'command');
  switch (call.action) {
    case 'command':
      builder.run({
        command: call.command ?? call.label,
        kind: 'command',
        problemKey: call.command ?? call.label,
        outcome,
        seq,
      });
      return;
    case 'todo': {
      const todos = todoListOf(call, result);
      if (todos.length > 0) builder.status(todoStatus(todos), seq, 'todos');
      return;
    }
    case 'search':
      // A search that failed is a problem until the same search works; a success says nothing else.
      if (outcome.status === 'failed')
        builder.fail(call.label, `${call.label} failed${outcome.error ? `: ${outcome.error}` : ''}`, seq);
      else if (outcome.status === 'ok') builder.settle([call.label]);
      return;
    case 'other':
      builder.run({ command: call.label, kind: 'tool', problemKey: call.label, outcome, seq });
      return;
    default:
      for (const file of call.files) {
        const key = `${file.action === 'read' ? 'read' : 'write'}:${file.path}`;
        if (outcome.status === 'failed') {
          builder.fail(
            key,
            `${call.tool} ${file.path} failed${outcome.error ? `: ${outcome.error}` : ''}`,
            seq,
          );
          continue;
        }
        if (outcome.status === 'ok') builder.settle([key]);
        const action =
          file.action === 'read'
            ? 'read'
            : file.action === 'create'
              ? 'created'
              : file.action === 'delete'
                ? 'deleted'
                : file.action === 'write'
                  ? 'write'
                  : 'edited';
        builder.file(
          file.path,
          action,
          seq,
          undefined,
          result !== null && /has been updated|^\s*(?:⎿\s*)?Updated\b/im.test(result),
        );
      }
  }
}

/** `todo list: 2 of 5 done; in progress: Write the parser` */
function todoStatus(todos: readonly TodoItem[]): string {
  const done = todos.filter((t) => t.status === 'completed').length;
  const current = todos.find((t) => t.status === 'in_progress');
  return `todo list: ${done} of ${todos.length} done${current ? `; in progress: ${current.content}` : ''}`;
}

function writes(call: ToolCall): boolean {
  return call.action === 'edit' || call.action === 'write' || call.action === 'create';
}

/**
 * The short strings of a call's input (its command, its path, the console call), not file bodies;
 * a console call's argument labels (`file_path:`, `pattern:`) are the tool's, not names in use.
 */
function inputStrings(input: unknown): string[] {
  if (typeof input === 'string') return input.length <= MAX_INPUT_STRING ? [input] : [];
  if (input === null || typeof input !== 'object') return [];
  return Object.entries(input).flatMap(([key, value]) => {
    if (typeof value !== 'string' || value.length > MAX_INPUT_STRING) return [];
    return [key === 'call' ? value.replace(/\b\w+:\s/g, ' ') : value];
  });
}

/**
 * @internal The last match of PATH_IN_PROSE in `text`, found without scanning all of it: the regex
 * backtracks over every position of a long word, and prose holds long words (hashes, base64).
 *
 * Every character of a match is a path character (`[\w@./-]`), so a match lies within one run of
 * them, and the regex reads nothing outside that run but the character after it, for its closing
 * `\b`, which is not a word character either way (the end of the run, or of the text). The
 * matches of the text are therefore those of its runs, in order, and only a run holding an
 * extension (`.` and a letter) can have one: the regex runs on those runs alone.
 * @example lastPath('see src/a.ts, then docs/b.md') // 'docs/b.md'
 */
export function lastPath(text: string): string | undefined {
  let last: string | undefined;
  EXTENSION.lastIndex = 0;
  for (let dot = EXTENSION.exec(text); dot !== null; dot = EXTENSION.exec(text)) {
    let start = dot.index;
    while (start > 0 && isPathChar(text.charCodeAt(start - 1))) start--;
    let end = dot.index + 1;
    while (end < text.length && isPathChar(text.charCodeAt(end))) end++;
    const found = text.slice(start, end).match(PATH_IN_PROSE);
    if (found !== null) last = found[found.length - 1];
    EXTENSION.lastIndex = end; // the next run
  }
  return last;
}

/** `[\w@./-]`: letters, digits, `_`, `@`, `.`, `/` and `-`. */
function isPathChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 45 && code <= 57) || // - . / 0-9
    code === 95 || // _
    code === 64 // @
  );
}

/** The texts of a message: its string content, or its text blocks. */
function textsOf(message: Message): string[] {
  if (typeof message.content === 'string') return [message.content];
  return blocksOf(message).flatMap((block) =>
    block.type === 'text' && typeof block.text === 'string' ? [block.text] : [],
  );
}

function blocksOf(message: Message): ContentBlock[] {
  if (message === null || typeof message !== 'object' || !Array.isArray(message.content)) return [];
  return message.content.filter(
    (block): block is ContentBlock =>
      block !== null && typeof block === 'object' && typeof block.type === 'string',
  );
}
