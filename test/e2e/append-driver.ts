/**
 * The parent's side of append-child.ts: starts it (under the fault shim or a shell with `ulimit`),
 * sends commands, collects what it reported, and checks a root against those reports.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sessionIdOf } from '../../src/core/ids.js';
import type { Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { FAULT_KEY, contentOf, type ReportedError } from './append-child.js';

const CHILD = fileURLToPath(new URL('./append-child.ts', import.meta.url));

type Event = Record<string, unknown>;

/** What the child said about every index it was asked to append. */
export interface Reports {
  acked: Map<number, number>;
  failed: Map<number, ReportedError>;
}

/** A running append-child. */
export class AppendChild {
  readonly process: ChildProcessWithoutNullStreams;
  readonly reports: Reports = { acked: new Map(), failed: new Map() };
  #events: Event[] = [];
  #waiting: (() => void) | null = null;
  #stderr = '';
  #ended = false;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.process = child;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as Event;
      if (typeof event.ack === 'number') this.reports.acked.set(event.ack, event.seq as number);
      if (typeof event.fail === 'number') this.reports.failed.set(event.fail, event.error as ReportedError);
      this.#events.push(event);
      this.#waiting?.();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.#stderr += chunk));
    child.once('close', () => {
      this.#ended = true;
      this.#waiting?.();
    });
  }

  /** Starts the child with `env`; `shell` (e.g. `ulimit -f 200`) runs first, in `sh -c`. */
  static start(env: NodeJS.ProcessEnv, shell?: string): AppendChild {
    const node = [process.execPath, '--import', 'tsx', CHILD];
    const child =
      shell === undefined
        ? spawn(node[0]!, node.slice(1), { env, stdio: 'pipe' })
        : spawn('sh', ['-c', `${shell}; exec "$0" "$@"`, ...node], { env, stdio: 'pipe' });
    return new AppendChild(child);
  }

  /** Sends a command and waits for the event that ends it. */
  async run(command: Event, ends: (event: Event) => boolean): Promise<Event> {
    this.process.stdin.write(`${JSON.stringify(command)}\n`);
    for (;;) {
      const index = this.#events.findIndex(ends);
      if (index !== -1) return this.#events.splice(0, index + 1).at(-1)!;
      if (this.#ended)
        throw new Error(`append-child ended during ${JSON.stringify(command)}:\n${this.#stderr}`);
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
  }

  /** Opens a runtime on `root` (`syncAppends`: the runtime's option, default not given). */
  async open(
    root: string,
    foldMinBytes: number,
    syncAppends?: 'thread-pool' | 'calling-thread',
  ): Promise<Event> {
    const command = { op: 'open', root, foldMinBytes, ...(syncAppends ? { syncAppends } : {}) };
    return this.run(command, (e) => 'opened' in e || 'openFailed' in e);
  }

  /** Appends indexes from..from+count-1; resolves to the failures among them. */
  async append(from: number, count: number, concurrent = false): Promise<ReportedError[]> {
    await this.run({ op: 'append', from, count, concurrent }, (e) => 'appended' in e);
    const failures: ReportedError[] = [];
    for (let i = from; i < from + count; i++) {
      const failure = this.reports.failed.get(i);
      if (failure) failures.push(failure);
    }
    return failures;
  }

  async close(): Promise<void> {
    await this.run({ op: 'close' }, (e) => 'closed' in e);
  }

  async exit(): Promise<void> {
    if (this.#ended) return;
    this.process.stdin.write(`${JSON.stringify({ op: 'exit' })}\n`);
    await new Promise<void>((resolve) =>
      this.#ended ? resolve() : this.process.once('close', () => resolve()),
    );
  }
}

/** The fault session's history on `root`, read the way `export` reads it: a read-only runtime. */
export async function historyOf(root: string): Promise<Message[]> {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  try {
    return await runtime.getHistory(sessionIdOf(FAULT_KEY));
  } finally {
    await runtime.close();
  }
}

/** Figures of one check, and what was wrong. */
export interface Checked {
  acknowledged: number;
  /** Acknowledged, and missing. */
  lost: number;
  /** Acknowledged, and present more than once, or with another seq or content. */
  changed: number;
  /** Rejected with nothing written, and present: a rejected append that came back. */
  cameBack: number;
  problems: string[];
}

/**
 * Checks a history against the child's reports: every acknowledged index exactly once, with the
 * seq it was acknowledged with and its content verbatim; every index whose append was rejected
 * with nothing written absent; an index whose outcome was reported unknown at most once; nothing
 * that was never sent; seqs in order.
 */
export function checkHistory(history: readonly Message[], reports: Reports, context: string): Checked {
  const checked: Checked = {
    acknowledged: reports.acked.size,
    lost: 0,
    changed: 0,
    cameBack: 0,
    problems: [],
  };
  const problem = (text: string) => checked.problems.push(`${context}: ${text}`);
  const seen = new Map<number, Message[]>();
  for (const message of history) {
    const index = Number(/^message (\d+):/.exec(String(message.content))?.[1] ?? NaN);
    if (!Number.isInteger(index)) problem(`a message that was never sent: ${JSON.stringify(message)}`);
    else seen.set(index, [...(seen.get(index) ?? []), message]);
  }
  for (const [index, seq] of reports.acked) {
    const copies = seen.get(index) ?? [];
    if (copies.length === 0) {
      checked.lost++;
      problem(`acknowledged message ${index} (seq ${seq}) is missing`);
    } else if (copies.length > 1 || copies[0]!.seq !== seq || copies[0]!.content !== contentOf(index)) {
      checked.changed++;
      problem(`acknowledged message ${index} (seq ${seq}) is there ${copies.length} times, or changed`);
    }
  }
  for (const [index, error] of reports.failed) {
    const copies = seen.get(index)?.length ?? 0;
    if (copies > (error.outcome === 'unknown' ? 1 : 0)) {
      checked.cameBack++;
      problem(`rejected message ${index} is there ${copies} times (${error.message})`);
    }
  }
  for (const index of seen.keys()) {
    if (!reports.acked.has(index) && !reports.failed.has(index))
      problem(`message ${index} was never appended`);
  }
  const seqs = history.map((m) => m.seq);
  if (seqs.some((seq, i) => i > 0 && seq <= seqs[i - 1]!)) problem(`seqs out of order: ${seqs.join(' ')}`);
  return checked;
}
