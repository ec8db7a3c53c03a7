/**
 * Facts from messages, in the order they happened: classified statements from prose, and what tool
 * calls did (files edited, written and read, commands and how they ended, failed tools). Pairs
 * tool_use blocks with their tool_result by id, and string-form calls of imported transcripts
 * (metadata `toolName`) with the next result of the same tool, in order.
 */
import type { ContentBlock, Message } from '../core/types.js';
import { toolResultText } from '../request/format.js';
import { extractStatements, type StatementKind } from './extract-text.js';
import { describeCall, outcomeOf, parseStringCall, type CallInfo, type Outcome } from './extract-tools.js';

/** @internal One thing the summary should learn. */
export type Fact =
  | { type: 'statement'; kind: StatementKind; text: string; strong?: boolean }
  /** A command ran; `ok` is null when its result is not among the messages. */
  | { type: 'command'; command: string; ok: boolean | null; error?: string }
  | { type: 'file'; path: string; action: 'edited' | 'wrote' }
  | { type: 'read'; path: string }
  /** A tool other than a command ended; `label` is `Tool target`. */
  | { type: 'tool'; label: string; ok: boolean; error?: string };

const ASSISTANT_STATEMENTS = 12;
const USER_STATEMENTS = 3;

interface IndexedResult {
  text: string;
  isError: boolean;
}

/**
 * @internal Walks messages one at a time (so that the caller can check for cancellation between
 * them) and returns their facts. Never throws on odd content: unknown shapes are skipped.
 */
export class FactExtractor {
  private readonly results = new Map<string, IndexedResult>();
  private readonly toolNames = new Map<string, string>();
  private readonly pendingCalls: Array<{ name: string; call: CallInfo }> = [];

  /** @param messages - Every message of the batch, to find tool results ahead of their calls. */
  constructor(messages: readonly Message[]) {
    for (const message of messages) {
      for (const block of blocksOf(message)) {
        if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
          this.results.set(block.tool_use_id, {
            text: toolResultText(block.content),
            isError: block.is_error === true,
          });
        }
      }
    }
  }

  /** The facts of one message. */
  extract(message: Message): Fact[] {
    if (message === null || typeof message !== 'object') return [];
    const role = message.role;
    // A tool output that lost its call (imported transcripts) is not something the user said.
    if (message.metadata?.['orphanToolResult'] === true && typeof message.content === 'string') return [];
    const toolName =
      typeof message.metadata?.['toolName'] === 'string' ? message.metadata['toolName'] : undefined;
    if (typeof message.content === 'string') {
      if (toolName !== undefined && toolName !== '') return this.stringTool(role, toolName, message.content);
      return role === 'system' ? [] : prose(message.content, role);
    }
    const facts: Fact[] = [];
    for (const block of blocksOf(message)) {
      if (block.type === 'text' && typeof block.text === 'string' && role !== 'system') {
        facts.push(...prose(block.text, role));
      } else if (block.type === 'tool_use') {
        const name = typeof block.name === 'string' ? block.name : 'tool';
        if (typeof block.id === 'string') this.toolNames.set(block.id, name);
        const result = typeof block.id === 'string' ? this.results.get(block.id) : undefined;
        // Imported transcripts keep the console form of a call as `input.call` (`Bash(git status)`).
        const call = (block.input as { call?: unknown } | null)?.call;
        if (typeof call === 'string') {
          const parsed = parseStringCall(toolName ?? name, call);
          if (parsed.prose !== '') facts.push(...prose(parsed.prose, 'assistant'));
          facts.push(
            ...callFacts(
              parsed.call,
              result === undefined
                ? null
                : outcomeOf(result.text, result.isError, parsed.call.kind === 'command'),
            ),
          );
        } else {
          const info = describeCall(name, block.input);
          facts.push(
            ...callFacts(
              info,
              result === undefined ? null : outcomeOf(result.text, result.isError, info.kind === 'command'),
            ),
          );
        }
      } else if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
        // Todo tools print their list in the result: ☐ pending, ☒ done.
        if (/todo/i.test(this.toolNames.get(block.tool_use_id) ?? ''))
          facts.push(...todoLines(toolResultText(block.content)));
      }
    }
    return facts;
  }

  /** Facts of string-form calls whose result never came. */
  finish(): Fact[] {
    const facts = this.pendingCalls.flatMap(({ call }) => callFacts(call, null));
    this.pendingCalls.length = 0;
    return facts;
  }

  private stringTool(role: Message['role'], toolName: string, content: string): Fact[] {
    if (role === 'assistant') {
      const { call, prose: around } = parseStringCall(toolName, content);
      this.pendingCalls.push({ name: toolName, call });
      return around === '' ? [] : prose(around, 'assistant');
    }
    const index = this.pendingCalls.findIndex((pending) => pending.name === toolName);
    const facts: Fact[] = /todo/i.test(toolName) ? todoLines(content) : [];
    if (index < 0) return facts;
    const [pending] = this.pendingCalls.splice(index, 1);
    if (pending === undefined) return facts;
    return [...callFacts(pending.call, outcomeOf(content, false, pending.call.kind === 'command')), ...facts];
  }
}

/** @internal The facts of one call with its outcome (null when unknown). */
function callFacts(call: CallInfo, outcome: Outcome | null): Fact[] {
  const error = outcome?.error;
  switch (call.kind) {
    case 'command':
      if (call.label === '') return [];
      return [
        error === undefined
          ? { type: 'command', command: call.label, ok: outcome?.ok ?? null }
          : { type: 'command', command: call.label, ok: false, error },
      ];
    case 'todo':
      return call.todos.map(({ content, status }) => ({
        type: 'statement',
        kind: status === 'completed' ? 'completed' : status === 'in_progress' ? 'inProgress' : 'pending',
        text: content.replace(/\s+/g, ' ').trim().slice(0, 200),
      }));
    case 'edit':
    case 'write':
    case 'read':
      if (outcome?.ok === false) return [failure(call.label, error)];
      return call.paths.map((path) =>
        call.kind === 'read'
          ? { type: 'read', path }
          : { type: 'file', path, action: call.kind === 'write' ? 'wrote' : 'edited' },
      );
    default:
      if (outcome === null) return [];
      return [outcome.ok ? { type: 'tool', label: call.label, ok: true } : failure(call.label, error)];
  }
}

function failure(label: string, error: string | undefined): Fact {
  return error === undefined ? { type: 'tool', label, ok: false } : { type: 'tool', label, ok: false, error };
}

function prose(text: string, role: Message['role']): Fact[] {
  const limit = role === 'user' ? USER_STATEMENTS : ASSISTANT_STATEMENTS;
  return extractStatements(text, role === 'user' ? 'user' : 'assistant', limit).map((statement) => ({
    type: 'statement',
    ...statement,
  }));
}

/** The checkbox lines of a todo tool's output (☐ pending, ☒ done); other lines are noise. */
function todoLines(text: string): Fact[] {
  return extractStatements(text, 'checklist', 50).map((statement) => ({ type: 'statement', ...statement }));
}

/** The well-formed blocks of a message (non-objects and untyped entries skipped). */
function blocksOf(message: Message): ContentBlock[] {
  if (message === null || typeof message !== 'object' || !Array.isArray(message.content)) return [];
  return message.content.filter(
    (block): block is ContentBlock =>
      block !== null && typeof block === 'object' && typeof block.type === 'string',
  );
}
