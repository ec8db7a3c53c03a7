/**
 * How a tool call ended, read from its result: the exit code the agent's harness printed
 * (Claude Code `Exit code 1`, Codex's JSON envelope or `Exit code: 1`, OpenHands' `[The command
 * completed with exit code 1.]`), test counts (`3 failed, 12 passed`), an error flag, an output
 * that starts with an error, and for commands the usual failure lines (tracebacks, `command not
 * found`, `FAILED`).
 */
import type { RunStatus } from '../../core/ledger-types.js';

/** How a call ended. */
export interface Outcome {
  status: RunStatus;
  exitCode?: number;
  passed?: number;
  failed?: number;
  /** The most telling line of a failure. */
  error?: string;
}

/** Longest error line kept, in characters. */
export const MAX_ERROR_CHARS = 160;

const EXIT_CODE = new RegExp(
  String.raw`^\s*(?:\[The command completed with exit code (-?\d+)\.\]|Exit code:? (-?\d+)|` +
    String.raw`Process exited with code (-?\d+)|Command exited with code:? (-?\d+))`,
  'im',
);
const ERROR_START = /^\s*(?:(?:⎿|Waiting…)\s*)*(?:error\b|fatal\b|User rejected|Interrupted by user)/i;
const ERROR_ANY = new RegExp(
  String.raw`Traceback \(most recent call last\)|npm ERR!|command not found|No such file or directory|` +
    String.raw`Permission denied|exit code:? [1-9]|error TS\d+|^\s*FAIL\b|\bFAILED\b|SyntaxError|Segmentation fault|` +
    String.raw`panicked at|^fatal:|ERR_[A-Z_]+|Your proposed edit has introduced`,
  'm',
);
const FAILURE_WORD = new RegExp(
  String.raw`\b(fail(?:s|ed|ure|ing)?|errors?|exception|denied|not found|no tests ran|cannot|can'?t|unable|` +
    String.raw`invalid|missing|refused|timed out|rejected|interrupted)\b`,
  'i',
);

/**
 * The text of a result as the agent saw it, without the envelope Codex wraps shell output in
 * (`{"output": "...", "metadata": {"exit_code": 0}}`), and that envelope's exit code.
 *
 * @param text - the result's text.
 * @returns the output text, and the exit code when the envelope holds one.
 * @example unwrapResult('{"output":"ok\\n","metadata":{"exit_code":0}}') // { text: 'ok\n', exitCode: 0 }
 */
export function unwrapResult(text: string): { text: string; exitCode?: number } {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{"output"')) return { text };
  try {
    const value = JSON.parse(trimmed) as { output?: unknown; metadata?: { exit_code?: unknown } };
    if (typeof value.output !== 'string') return { text };
    const code = value.metadata?.exit_code;
    return typeof code === 'number' ? { text: value.output, exitCode: code } : { text: value.output };
  } catch {
    return { text };
  }
}

/**
 * How a call ended. A harness' exit code decides when there is one (0 is a success even if the
 * output mentions errors); otherwise the error flag, failed tests, an output that starts with an
 * error, and, for commands, the usual failure lines.
 *
 * @param raw - the result's text.
 * @param isError - the result's error flag (`is_error`).
 * @param command - whether the call ran a command (command output is searched for failure lines;
 *   other tools print file contents, which mention errors all the time).
 * @returns the outcome.
 * @example
 * outcomeOf('Exit code 1\n2 failed, 5 passed', false, true)
 * // { status: 'failed', exitCode: 1, passed: 5, failed: 2, error: '2 failed, 5 passed' }
 */
export function outcomeOf(raw: string, isError: boolean, command: boolean): Outcome {
  const unwrapped = unwrapResult(raw);
  const text = unwrapped.text;
  const head = text.length > 8_000 ? `${text.slice(0, 5_000)}\n${text.slice(-3_000)}` : text;
  const marked = EXIT_CODE.exec(head);
  const exitCode =
    unwrapped.exitCode ??
    (marked === null ? undefined : Number(marked[1] ?? marked[2] ?? marked[3] ?? marked[4]));
  const counts = command ? testCounts(head) : {};
  const outcome: Outcome = { status: 'ok', ...counts };
  if (exitCode !== undefined) outcome.exitCode = exitCode;
  let failed: boolean;
  if (exitCode === -1) return { ...outcome, status: 'unknown' }; // OpenHands: still running
  if (exitCode !== undefined && !isError) failed = exitCode !== 0;
  else
    failed =
      isError || (counts.failed ?? 0) > 0 || ERROR_START.test(head) || (command && ERROR_ANY.test(head));
  if (!failed) return outcome;
  return { ...outcome, status: 'failed', error: errorLine(head) };
}

/** Passed and failed test counts, when the output reports them. */
function testCounts(text: string): { passed?: number; failed?: number } {
  const counts: { passed?: number; failed?: number } = {};
  const passed = [...text.matchAll(/\b(\d+) (?:passed|passing)\b/gi)];
  const failed = [...text.matchAll(/\b(\d+) (?:failed|failing)\b/gi)];
  // The summary line comes last.
  const lastPassed = passed[passed.length - 1]?.[1];
  const lastFailed = failed[failed.length - 1]?.[1];
  if (lastPassed !== undefined) counts.passed = Number(lastPassed);
  if (lastFailed !== undefined) counts.failed = Number(lastFailed);
  return counts;
}

/**
 * The most telling line of a failed output: an exception line, a known failure line, a failure
 * word, else the first.
 */
function errorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) =>
      line
        .replace(/^\s*(?:(?:⎿|Waiting…)\s*)+/, '')
        .replace(/[=_*~-]{3,}|\.{4,}/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((line) => line !== '' && !/^(?:Exit code:?|\[The command completed|Wall time)/i.test(line));
  const line =
    lines.find((l) => /^(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception): /.test(l)) ??
    lines.find((l) => ERROR_ANY.test(l)) ??
    lines.find((l) => FAILURE_WORD.test(l.replace(/^(?:error|fatal):\s*/i, ''))) ??
    lines[0] ??
    'failed';
  return clip(line, MAX_ERROR_CHARS);
}

/** @internal `text` cut to `max` characters with an ellipsis, never in half a surrogate pair. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}
