/**
 * @internal Applying facts to a copy of a ledger, in the order they happened. Every fact is about
 * one thing (a file, a command, a problem, the status) and replaces what the ledger said about
 * that thing; nothing is removed for its age. Deterministic: the result depends only on the base
 * ledger and the facts.
 */
import type {
  FileAction,
  LedgerCommand,
  LedgerDecision,
  LedgerFile,
  LedgerIteration,
  LedgerName,
  LedgerProblem,
  LedgerRequest,
  LedgerStatus,
  SessionLedger,
} from '../../core/ledger-types.js';
import type { Outcome } from '../vocabulary/outcome.js';
import { clip } from '../vocabulary/outcome.js';
import { runnerOf } from './runner.js';
import { emptyLedger } from '../../core/empty-checkpoint.js';

/** Longest request kept verbatim, in characters (the render cuts older ones shorter). */
export const MAX_REQUEST_CHARS = 600;
/** Longest problem or status text, in characters. */
const MAX_TEXT_CHARS = 200;
/** Most names kept (the least mentioned, then the oldest, go beyond it). */
const MAX_NAMES = 400;
/** Longest iteration line, in characters. */
const MAX_ITERATION_CHARS = 400;

/** The empty ledger: nothing recorded yet (defined with the empty checkpoint in src/core). */
export { emptyLedger };

/** A run to record: a command or another tool's call, and how it ended. */
export interface RunFact {
  /** The command line, or `tool target`. */
  command: string;
  kind: 'command' | 'tool';
  /** What settles a failure of it (the command, or `write:path` for file tools). */
  problemKey: string;
  outcome: Outcome;
  seq: number;
  iteration?: number;
}

/**
 * @internal A working copy of a ledger. Each list is kept oldest first: a map's insertion order (an
 * entry that changes is deleted and set again, so it moves last) or an array's order. Entries are
 * never changed once stored (a fact replaces its entry), so `result` hands them out as they are.
 */
export class LedgerBuilder {
  readonly #files = new Map<string, LedgerFile>();
  readonly #commands = new Map<string, LedgerCommand>();
  readonly #problems = new Map<string, LedgerProblem>();
  #requests: LedgerRequest[] = [];
  /** `requestKey` of each of `#requests`, in the same order (null until the first request). */
  #requestKeys: string[] | null = null;
  readonly #names = new Map<string, LedgerName>();
  #status: LedgerStatus | null;
  #throughSeq: number;
  #iterations: number;
  #iterationLog: LedgerIteration[];
  readonly #decisions = new Map<string, LedgerDecision>();

  /** @param base - the ledger to start from (copied; not modified). */
  constructor(base: SessionLedger | null | undefined) {
    const ledger = base ?? emptyLedger();
    // Lists are newest first: the oldest goes in first.
    for (const file of [...ledger.files].reverse()) this.#files.set(file.path, { ...file });
    for (const command of [...ledger.commands].reverse()) this.#commands.set(command.command, { ...command });
    for (const problem of [...ledger.problems].reverse()) this.#problems.set(problem.key, { ...problem });
    this.#requests = [...ledger.requests].reverse().map((request) => ({ ...request }));
    for (const name of [...(ledger.names ?? [])].reverse()) this.#names.set(name.name, { ...name });
    this.#status = ledger.status === null ? null : { ...ledger.status };
    this.#throughSeq = ledger.throughSeq;
    this.#iterations = ledger.iterations;
    this.#iterationLog = (ledger.iterationLog ?? []).map((entry) => ({ ...entry }));
    for (const decision of [...(ledger.decisions ?? [])].reverse())
      this.#decisions.set(decision.key, { ...decision });
  }

  /** Seq of the last message recorded so far. */
  get throughSeq(): number {
    return this.#throughSeq;
  }

  /** Notes that messages up to `seq` are recorded. */
  seen(seq: number): void {
    this.#throughSeq = Math.max(this.#throughSeq, seq);
  }

  /**
   * A file was touched. The most telling action stays: a read does not hide an edit, an edit of a
   * file created in this session keeps it `created`; a whole-file write is an edit of a file the
   * ledger knows (or that the result says was updated), else a creation.
   */
  file(path: string, action: FileAction | 'write', seq: number, iteration?: number, updated?: boolean): void {
    const known = this.#files.get(path);
    let next: FileAction;
    if (action === 'write')
      next = updated === true || (known !== undefined && known.action !== 'deleted') ? 'edited' : 'created';
    else next = action;
    if (known !== undefined) {
      if (next === 'read' && known.action !== 'read') return;
      if (next === 'edited' && known.action === 'created') next = 'created';
    }
    const entry: LedgerFile = { path, action: next, seq, firstSeq: known?.firstSeq ?? seq };
    if (iteration !== undefined) entry.iteration = iteration;
    this.#files.delete(path);
    this.#files.set(path, entry);
  }

  /**
   * A command or tool call ended. Its last run replaces the earlier one; a failure opens (or
   * renews) the problem of its key; a success settles that problem, and a full run of a test
   * runner (`pytest`, `npm test`, no paths or filters) settles every problem of the same runner.
   * An unknown outcome settles and opens nothing.
   */
  run(fact: RunFact): void {
    const known = this.#commands.get(fact.command);
    const entry: LedgerCommand = {
      command: fact.command,
      kind: fact.kind,
      runs: (known?.runs ?? 0) + 1,
      seq: fact.seq,
      status: fact.outcome.status,
    };
    const { exitCode, passed, failed, error } = fact.outcome;
    if (exitCode !== undefined) entry.exitCode = exitCode;
    if (passed !== undefined) entry.passed = passed;
    if (failed !== undefined) entry.failed = failed;
    if (error !== undefined) entry.error = error;
    if (fact.iteration !== undefined) entry.iteration = fact.iteration;
    this.#commands.delete(fact.command);
    this.#commands.set(fact.command, entry);
    if (fact.outcome.status === 'failed')
      this.fail(fact.problemKey, describeFailure(entry), fact.seq, fact.iteration);
    else if (fact.outcome.status === 'ok') this.#settleRun(fact.problemKey, fact.kind === 'command');
  }

  /** Something failed: opens the problem `key`, or renews it (its count goes up, its text is the newest). */
  fail(key: string, text: string, seq: number, iteration?: number): void {
    const known = this.#problems.get(key);
    const problem: LedgerProblem = {
      key,
      text: clip(text, MAX_TEXT_CHARS),
      since: known?.since ?? seq,
      seq,
      count: (known?.count ?? 0) + 1,
    };
    if (iteration !== undefined) problem.iteration = iteration;
    this.#problems.delete(key);
    this.#problems.set(key, problem);
  }

  /** Settles the problems of these keys (a later success, the user, a task loop). */
  settle(keys: Iterable<string>): void {
    for (const key of keys) this.#problems.delete(key);
  }

  /** The keys and texts of the open problems, oldest first. */
  openProblems(): Array<{ key: string; text: string }> {
    return [...this.#problems.values()].map(({ key, text }) => ({ key, text }));
  }

  /** The user's own words, newest first; a repeated request moves up instead of appearing twice. */
  request(text: string, seq: number, correction: boolean): void {
    const kept = clip(text, MAX_REQUEST_CHARS);
    const key = requestKey(kept);
    // The keys of the requests so far, made once per builder (a session's requests are many).
    this.#requestKeys ??= this.#requests.map((r) => requestKey(r.text));
    if (this.#requestKeys.includes(key)) {
      const keys = this.#requestKeys;
      this.#requests = this.#requests.filter((_, i) => keys[i] !== key);
      this.#requestKeys = keys.filter((k) => k !== key);
    }
    this.#requests.push({ text: kept, seq, correction });
    this.#requestKeys.push(key);
  }

  /** Names mentioned by one message (each counted once per message). */
  names(names: readonly string[], seq: number): void {
    for (const name of new Set(names)) {
      const known = this.#names.get(name);
      this.#names.delete(name); // moves last: the most recently mentioned
      this.#names.set(name, { name, mentions: (known?.mentions ?? 0) + 1, seq });
    }
  }

  /** The status of the work, replacing the older one. */
  status(text: string, seq: number, source: LedgerStatus['source'], iteration?: number): void {
    this.#status = { text: clip(text, MAX_TEXT_CHARS), seq, source };
    if (iteration !== undefined) this.#status.iteration = iteration;
  }

  /** The last iteration number recorded, and now one more. */
  nextIteration(iteration: number): void {
    this.#iterations = Math.max(this.#iterations + 1, iteration);
  }

  /** The newest iteration line (null before any): facts after its `seq` belong to later iterations. */
  lastIteration(): LedgerIteration | null {
    return this.#iterationLog[0] ?? null;
  }

  /** An iteration's outcome line; a line of the same iteration number replaces the earlier one. */
  iterationLine(iteration: number, text: string, seq: number): void {
    const line: LedgerIteration = { iteration, text: clip(text, MAX_ITERATION_CHARS), seq };
    this.#iterationLog = [line, ...this.#iterationLog.filter((entry) => entry.iteration !== iteration)];
  }

  /** The files and commands whose last fact is after `seq`, or of `iteration`, newest first. */
  touchedSince(seq: number, iteration: number): { files: LedgerFile[]; commands: LedgerCommand[] } {
    const newest = <T extends { seq: number; iteration?: number }>(items: Iterable<T>) =>
      [...items]
        .filter((item) => item.seq > seq || item.iteration === iteration)
        .reverse()
        .map((item) => ({ ...item }));
    return { files: newest(this.#files.values()), commands: newest(this.#commands.values()) };
  }

  /** The open problem of a key, if any. */
  problem(key: string): LedgerProblem | undefined {
    const found = this.#problems.get(key);
    return found === undefined ? undefined : { ...found };
  }

  /** A decision, replacing the earlier one of the same key (its count goes up). */
  decision(decision: Omit<LedgerDecision, 'count'>): void {
    const known = this.#decisions.get(decision.key);
    this.#decisions.delete(decision.key);
    this.#decisions.set(decision.key, { ...decision, count: (known?.count ?? 0) + 1 });
  }

  /** The ledger: every list newest first. */
  result(): SessionLedger {
    const newest = <T>(items: Iterable<T>): T[] => [...items].reverse();
    return {
      files: newest(this.#files.values()),
      commands: newest(this.#commands.values()),
      problems: newest(this.#problems.values()),
      requests: newest(this.#requests),
      names: newest(this.#names.values())
        .sort((a, b) => b.mentions - a.mentions)
        .slice(0, MAX_NAMES),
      status: this.#status === null ? null : { ...this.#status },
      throughSeq: this.#throughSeq,
      iterations: this.#iterations,
      // Written only once there is one, so that ledgers without them stay as they were.
      ...(this.#iterationLog.length > 0 ? { iterationLog: this.#iterationLog.map((e) => ({ ...e })) } : {}),
      ...(this.#decisions.size > 0 ? { decisions: newest(this.#decisions.values()) } : {}),
    };
  }

  #settleRun(key: string, command: boolean): void {
    this.#problems.delete(key);
    if (!command) return;
    const runner = runnerOf(key);
    if (runner === null || !runner.full) return;
    for (const problem of [...this.#problems.values()]) {
      if (runnerOf(problem.key)?.runner === runner.runner) this.#problems.delete(problem.key);
    }
  }
}

/** Keys made lately: every compaction's builder makes the keys of all the session's requests again. */
const madeKeys = new Map<string, string>();
/** Keys {@link madeKeys} keeps before it starts again (requests are at most 600 characters). */
const MAX_MADE_KEYS = 4_096;

/** What makes two requests the same: their text, case and spacing aside. */
function requestKey(text: string): string {
  let key = madeKeys.get(text);
  if (key === undefined) {
    key = text.toLowerCase().replace(/\s+/g, ' ');
    if (madeKeys.size >= MAX_MADE_KEYS) madeKeys.clear();
    madeKeys.set(text, key);
  }
  return key;
}

/** `` `npm test` failed (exit 1; 2 failed, 5 passed): AssertionError... `` */
function describeFailure(command: LedgerCommand): string {
  const details = [
    command.exitCode === undefined ? '' : `exit ${command.exitCode}`,
    command.failed === undefined ? '' : `${command.failed} failed`,
    command.passed === undefined ? '' : `${command.passed} passed`,
  ].filter((part) => part !== '');
  const head = `${command.kind === 'command' ? `\`${command.command}\`` : command.command} failed`;
  return `${head}${details.length === 0 ? '' : ` (${details.join(', ')})`}${command.error ? `: ${command.error}` : ''}`;
}
