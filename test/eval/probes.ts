/**
 * Probe facts: what a resuming agent must know, derived from the raw transcript alone, and the rule
 * that says whether a request still carries each one. These definitions are fixed: they were
 * written before the compactor was improved and must not be tuned to it (docs/compaction.md).
 *
 * Matching is done on normalised text (lower case, whitespace collapsed, console `⎿` marks
 * removed), so that hard-wrapped console lines and re-flowed summaries compare equal.
 */
import { isInspection, oneLine, pairCalls, type RawCall, type RawMessage } from './raw-transcript.js';

/** The kinds of facts, in the order they are reported. */
export const FACT_KINDS = ['file', 'command', 'error', 'user', 'identifier'] as const;
/** One kind of fact. */
export type FactKind = (typeof FACT_KINDS)[number];

/** Names of the kinds in reports. */
export const KIND_TITLES: Record<FactKind, string> = {
  file: 'files edited',
  command: 'last command with outcome',
  error: 'unresolved errors',
  user: 'user requests and corrections',
  identifier: 'identifiers used repeatedly',
};

/** One fact to look for in a request. */
export interface Fact {
  kind: FactKind;
  /** What the fact is about (a path, a command, the user's words, a name). */
  label: string;
  /** Indices of the transcript messages that show it; the fact is live while one of them is sent. */
  evidence: number[];
  /** Whether the normalised request text carries the fact. */
  recalled(request: string): boolean;
}

/** Text as the probes compare it. */
export function normalise(text: string): string {
  return text.replace(/⎿/g, ' ').replace(/\s+/g, ' ').toLowerCase().trim();
}

const OK_MARK = new RegExp(
  String.raw`\b(?:ok|pass(?:ed|es|ing)?|succeed(?:ed|s)?|success(?:ful(?:ly)?)?|` +
    String.raw`exit(?:ed)?(?: with)?(?: code| status)?:? 0|done|completed?)\b|[✓✔✅]`,
);
const FAIL_MARK = new RegExp(
  String.raw`\b(?:fail(?:ed|s|ure|ing)?|errors?|exit(?:ed)?(?: with)?(?: code| status)?:? [1-9]\d*|` +
    String.raw`traceback|exception|not found|denied|interrupted|rejected|timed out)\b|[✗✘❌]`,
);
/** How far after a mention of a command its outcome may be stated. */
const OUTCOME_WINDOW = 300;
/** Longest needle taken from a command or an argument. */
const COMMAND_NEEDLE = 80;
const ARGUMENT_NEEDLE = 40;
/** Longest prefix of the user's words looked for; cut back to a word boundary. */
const USER_NEEDLE = 60;
/** Shortest user message probed: shorter ones ("yes", "go on") would match anywhere. */
const USER_MIN = 10;
/** Mentions (distinct messages) that make a name "used repeatedly". */
const IDENTIFIER_MENTIONS = 3;

/** All probe facts of a transcript. */
export function probeFacts(messages: readonly RawMessage[]): Fact[] {
  const calls = pairCalls(messages);
  const tools = new Set(calls.map((call) => call.tool));
  return [
    ...fileFacts(calls),
    ...commandFacts(calls),
    ...errorFacts(calls),
    ...userFacts(messages),
    ...identifierFacts(messages, tools),
  ];
}

/**
 * Files edited: every path that a successful edit or write touched. Recalled when the request
 * names the path by its last two components (`dir/file.py`, or the file name at the top level), so
 * that an absolute and a relative spelling both count.
 */
function fileFacts(calls: readonly RawCall[]): Fact[] {
  const byPath = new Map<string, number[]>();
  for (const call of calls) {
    if ((call.kind !== 'edit' && call.kind !== 'create') || call.outcome !== 'ok' || !call.path) continue;
    const key = pathNeedle(call.path);
    if (key === '') continue;
    byPath.set(key, [...(byPath.get(key) ?? []), ...indices(call)]);
  }
  return [...byPath].map(([needle, evidence]) => ({
    kind: 'file' as const,
    label: needle,
    evidence,
    recalled: (request: string) => request.includes(needle),
  }));
}

/**
 * The last run of every command that ran at least twice (looking around, such as `ls` or
 * `git status`, excepted), with its outcome. Recalled when the call and the beginning of its last
 * result are in the request together, or when the command is named and an outcome of the right
 * kind (passed/ok... or failed/error/exit N...) is stated within 300 characters after it.
 */
function commandFacts(calls: readonly RawCall[]): Fact[] {
  const runs = new Map<string, RawCall[]>();
  for (const call of calls) {
    if (call.kind !== 'command' || !call.command || isInspection(call.command)) continue;
    runs.set(call.command, [...(runs.get(call.command) ?? []), call]);
  }
  const facts: Fact[] = [];
  for (const [command, list] of runs) {
    const last = list[list.length - 1];
    if (list.length < 2 || last === undefined || last.outcome === 'unknown') continue;
    const outcome = last.outcome;
    facts.push({
      kind: 'command',
      label: `${command} (${outcome})`,
      evidence: indices(last),
      recalled: (request) =>
        pairShown(request, last) ||
        statedNear(
          request,
          normalise(command).slice(0, COMMAND_NEEDLE),
          outcome === 'ok' ? OK_MARK : FAIL_MARK,
        ),
    });
  }
  return facts;
}

/**
 * Errors still open at the end: a failed call (of any tool) with no later successful call of the
 * same command, or of the same tool on the same target. Recalled when the failing call and the
 * beginning of its result are in the request together, or when its command or target is named
 * with a failure stated within 300 characters after it.
 */
function errorFacts(calls: readonly RawCall[]): Fact[] {
  const last = new Map<string, RawCall>();
  for (const call of calls) {
    if (call.outcome === 'unknown') continue;
    last.set(targetKey(call), call);
  }
  const facts: Fact[] = [];
  for (const [key, call] of last) {
    if (call.outcome !== 'fail') continue;
    const needle = needleOf(call);
    if (needle === '') continue;
    facts.push({
      kind: 'error',
      label: key,
      evidence: indices(call),
      recalled: (request) => pairShown(request, call) || statedNear(request, needle, FAIL_MARK),
    });
  }
  return facts;
}

/**
 * The user's requests and corrections: every user message of at least 10 characters that is not
 * a slash command. Recalled when its first 60 characters (cut back to a word boundary) appear
 * verbatim. Repeated messages are one fact.
 */
function userFacts(messages: readonly RawMessage[]): Fact[] {
  const byNeedle = new Map<string, number[]>();
  for (const m of messages) {
    if (m.role !== 'user') continue;
    const text = normalise(m.content);
    if (text.length < USER_MIN || /^\/[\w:-]+/.test(text)) continue;
    let needle = text.slice(0, USER_NEEDLE);
    if (text.length > USER_NEEDLE && needle.lastIndexOf(' ') > USER_NEEDLE / 2)
      needle = needle.slice(0, needle.lastIndexOf(' '));
    byNeedle.set(needle, [...(byNeedle.get(needle) ?? []), m.index]);
  }
  return [...byNeedle].map(([needle, evidence]) => ({
    kind: 'user' as const,
    label: needle,
    evidence,
    recalled: (request: string) => request.includes(needle),
  }));
}

const IDENTIFIER = /(?<![\w/-])[A-Za-z_][A-Za-z0-9_]*(?![\w/-]|\.[A-Za-z]{1,5}\b)/g;

/**
 * Names used repeatedly: identifiers with an inner underscore or a camelCase hump, at least five
 * characters, mentioned in at least three messages of the user, of the assistant's prose or of its
 * tool calls (not in tool output: file dumps would swamp them). A name followed by a file
 * extension or inside a path, a tool's own name and a call's `label:` do not count. Recalled when
 * the name appears.
 */
function identifierFacts(messages: readonly RawMessage[], tools: ReadonlySet<string>): Fact[] {
  const mentions = new Map<string, number[]>();
  for (const m of messages) {
    if (m.role === 'tool') continue;
    const seen = new Set<string>();
    // A call's `name:` argument labels are the tool's, not names the agent uses.
    const text = m.toolName === undefined ? m.content : m.content.replace(/\b\w+:\s/g, ' ');
    for (const match of text.matchAll(IDENTIFIER)) {
      const name = match[0];
      if (name.length < 5 || seen.has(name) || tools.has(name)) continue;
      if (!/[a-z0-9]_[a-z0-9]/i.test(name) && !/[a-z][A-Z]/.test(name)) continue;
      seen.add(name);
      mentions.set(name, [...(mentions.get(name) ?? []), m.index]);
    }
  }
  return [...mentions]
    .filter(([, evidence]) => evidence.length >= IDENTIFIER_MENTIONS)
    .map(([name, evidence]) => {
      const needle = name.toLowerCase();
      return {
        kind: 'identifier' as const,
        label: name,
        evidence,
        recalled: (r: string) => r.includes(needle),
      };
    });
}

/** The call and its result message indices. */
function indices(call: RawCall): number[] {
  return call.resultIndex === null ? [call.callIndex] : [call.callIndex, call.resultIndex];
}

/** `dir/file` of a path (or `file` at the top level), normalised. */
function pathNeedle(path: string): string {
  const parts = normalise(path)
    .replace(/^\.\//, '')
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  return parts.slice(-2).join('/');
}

/** What identifies a call's target: its command, or the tool and its path or argument. */
function targetKey(call: RawCall): string {
  if (call.kind === 'command' && call.command) return call.command;
  return `${call.tool} ${call.path ?? oneLine(call.argument ?? '').slice(0, ARGUMENT_NEEDLE)}`;
}

/** The text a summary must name for a failed call. */
function needleOf(call: RawCall): string {
  if (call.kind === 'command' && call.command) return normalise(call.command).slice(0, COMMAND_NEEDLE);
  if (call.path) return pathNeedle(call.path);
  return normalise(call.argument ?? '').slice(0, ARGUMENT_NEEDLE);
}

/** Whether the call and the first 150 characters of its result are in the request, one after the other. */
function pairShown(request: string, call: RawCall): boolean {
  if (call.result === null) return false;
  return request.includes(`${normalise(call.call)} ${normalise(call.result).slice(0, 150)}`.trim());
}

/** Whether `needle` appears with `mark` matching within the next 300 characters. */
function statedNear(request: string, needle: string, mark: RegExp): boolean {
  if (needle === '') return false;
  for (let at = request.indexOf(needle); at >= 0; at = request.indexOf(needle, at + 1)) {
    const after = request.slice(at + needle.length, at + needle.length + OUTCOME_WINDOW);
    if (mark.test(after)) return true;
  }
  return false;
}
