/**
 * The session ledger as markdown sections of a request's checkpoint: compact lines, newest first,
 * the user's words as they were written. Pure; {@link renderCheckpoint} puts these sections in
 * place, and the token estimator counts exactly this text.
 */
import type { LedgerCommand, LedgerDecision, SessionLedger } from '../core/ledger-types.js';

/**
 * The sections of a ledger, in order: status, iterations, user requests, open problems, reviews and
 * decisions, files, commands, names.
 */
export interface LedgerSections {
  status: string;
  iterations: string;
  requests: string;
  problems: string;
  decisions: string;
  files: string;
  commands: string;
  names: string;
}

/** Mentions that make a name worth showing: it was used more than once. */
export const NAME_MIN_MENTIONS = 2;
/** Longest command shown, in characters: its head says what it is (a commit message body does not). */
const COMMAND_CHARS = 100;

const FILE_ACTIONS = ['edited', 'created', 'deleted', 'read'] as const;

/**
 * Renders each part of a ledger as a `### Title` section (`''` for an empty part).
 *
 * @param ledger - the ledger (anything else renders nothing).
 * @returns the sections.
 * @example renderLedgerSections(ledger).problems // '### Open problems\n- `npm test` failed (exit 1): ...'
 */
export function renderLedgerSections(ledger: SessionLedger | null | undefined): LedgerSections {
  const empty = {
    status: '',
    iterations: '',
    requests: '',
    problems: '',
    decisions: '',
    files: '',
    commands: '',
    names: '',
  };
  if (ledger === null || typeof ledger !== 'object') return empty;
  const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
  const status = ledger.status;
  return {
    status:
      status !== null &&
      typeof status === 'object' &&
      typeof status.text === 'string' &&
      status.text.trim() !== ''
        ? `### Status\n${oneLine(status.text)}`
        : '',
    iterations: section(
      'Iterations (newest first)',
      list(ledger.iterationLog).map((i) => `${i.iteration}: ${oneLine(i.text)}`),
    ),
    requests: section(
      'User requests and corrections (newest first, verbatim)',
      list(ledger.requests).map((r) => `${r.correction ? '(correction) ' : ''}${oneLine(r.text)}`),
    ),
    problems: section(
      'Open problems',
      list(ledger.problems).map((p) => oneLine(p.text)),
    ),
    decisions: section('Reviews and decisions (newest first)', list(ledger.decisions).map(decisionLine)),
    files: section(
      'Files (newest first)',
      FILE_ACTIONS.flatMap((action) => {
        const paths = list(ledger.files)
          .filter((file) => file.action === action)
          .map((file) => oneLine(file.path));
        return paths.length === 0 ? [] : [`${action}: ${paths.join(', ')}`];
      }),
    ),
    commands: section('Commands (last run, newest first)', list(ledger.commands).map(commandLine)),
    names: (() => {
      const names = list(ledger.names)
        .filter((n) => n.mentions >= NAME_MIN_MENTIONS)
        .map((n) => oneLine(n.name));
      return names.length === 0 ? '' : `### Names in use (most used first)\n${names.join(', ')}`;
    })(),
  };
}

/**
 * A command of the ledger on one line: the command (cut at 100 characters), its last outcome with
 * exit code and test counts, how many runs, and for a failure its telling line.
 *
 * @param command - a ledger command.
 * @returns the line.
 * @example
 * commandLine({ command: 'npm test', kind: 'command', runs: 3, seq: 9, status: 'failed', exitCode: 1, failed: 2 })
 * // '`npm test` → failed (exit 1, 2 failed) ×3'
 */
export function commandLine(command: LedgerCommand): string {
  const text = oneLine(command.command);
  const shown = text.length <= COMMAND_CHARS ? text : `${text.slice(0, COMMAND_CHARS - 1)}…`;
  const name = command.kind === 'command' ? `\`${shown}\`` : shown;
  const status = command.status === 'ok' ? 'ok' : command.status === 'failed' ? 'failed' : 'no result seen';
  const details = [
    command.exitCode === undefined || (command.status === 'ok' && command.exitCode === 0)
      ? ''
      : `exit ${command.exitCode}`,
    command.failed === undefined || command.failed === 0 ? '' : `${command.failed} failed`,
    command.passed === undefined ? '' : `${command.passed} passed`,
  ].filter((part) => part !== '');
  const runs = command.runs > 1 ? ` ×${command.runs}` : '';
  const error = command.status === 'failed' && command.error ? `: ${oneLine(command.error)}` : '';
  return `${name} → ${status}${details.length === 0 ? '' : ` (${details.join(', ')})`}${runs}${error}`;
}

/**
 * A decision of the ledger on one line: what was decided, by whom, how many times, and why.
 *
 * @param decision - a ledger decision.
 * @returns the line.
 * @example
 * decisionLine({ text: 'review of parser: rejected', by: 'harness', count: 2, reasons: ['no tests'], ... })
 * // 'review of parser: rejected (harness, review 2) because: no tests'
 */
export function decisionLine(decision: LedgerDecision): string {
  const who = [
    typeof decision.by === 'string' ? oneLine(decision.by) : '',
    decision.count > 1 ? `${decision.kind} ${decision.count}` : '',
  ].filter((part) => part !== '');
  const reasons = Array.isArray(decision.reasons)
    ? decision.reasons.map(oneLine).filter((r) => r !== '')
    : [];
  return [
    oneLine(decision.text),
    who.length > 0 ? ` (${who.join(', ')})` : '',
    reasons.length > 0 ? ` because: ${reasons.join('; ')}` : '',
  ].join('');
}

function section(title: string, lines: string[]): string {
  const items = lines.filter((line) => line !== '');
  return items.length === 0 ? '' : `### ${title}\n${items.map((line) => `- ${line}`).join('\n')}`;
}

/** Whitespace that {@link oneLine} would change: any but a single inner space. */
const NOT_ONE_LINE = /[^\S ]| {2}|^ | $/;
/** Texts flattened lately: a checkpoint is rendered many times while it is fitted to its budget. */
const flattened = new Map<string, string>();
/** Texts {@link flattened} keeps before it starts again. */
const MAX_FLATTENED = 10_000;

/**
 * @internal Collapses every whitespace run (newlines included) to one space and trims. Remembers
 * the texts it saw lately (the same strings come back with every rendering of a checkpoint), and
 * returns a text that is one line already as it is.
 * @example oneLine(' a\n\n b ') // 'a b'
 */
export function oneLine(text: string): string {
  const value = String(text);
  let line = flattened.get(value);
  if (line === undefined) {
    line = NOT_ONE_LINE.test(value) ? value.replace(/\s+/g, ' ').trim() : value;
    if (flattened.size >= MAX_FLATTENED) flattened.clear();
    flattened.set(value, line);
  }
  return line;
}
