/**
 * `dagent-sessions demo`: replays a long conversation through a session with the offline
 * compactor and prints what happened.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTranscript } from '../integration/transcript.js';
import { replayConversation, type ReplayReport } from '../integration/replay.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import { defineCommand, intOption } from './command.js';
import type { CliCommand } from './io.js';
import { createProgress } from './progress.js';

const USAGE = `Usage: dagent-sessions demo [--transcript FILE] [--root DIR] [--max-tokens N] [--json]

Replays a long conversation through a Dev session with the offline compactor (no API key
needed) and prints every compaction, the largest request against the limit and the append
latency. Exit code 2 when a message was lost or a request passed the limit.

Options:
  --transcript FILE   replay FILE (the format of the shared transcripts) instead of the bundled
                      conversation (fixtures/demo-conversation.json)
  --root DIR          write sessions under DIR/.dagent (default: a new temporary directory)
  --max-tokens N      the session's token limit (default 100000)
  --json              print the report as JSON
  -h, --help          show this help`;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** A transcript in the format of the shared transcripts; default: the bundled demo conversation. */
  transcript?: string;
  /** Where sessions are written; default: a new temporary directory. */
  root?: string;
  maxTokens?: number;
  json?: boolean;
  out?: (line: string) => void;
  /** Draw a progress bar on stderr; default: when stderr is a terminal and the output is not JSON. */
  interactive?: boolean;
}

/** The bundled conversation, made by scripts/make-demo-conversation.ts from the project's own sources. */
export function bundledConversation(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/cli → repository root, and dist/src/cli → repository root.
  const root = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
  return path.join(root, 'fixtures', 'demo-conversation.json');
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');

/** Renders a report as the demo prints it. */
export function formatReport(report: ReplayReport, meta: { source: string; root: string; sessionId: string }): string {
  const lines = [
    `Replayed ${meta.source}`,
    `  session            ${meta.sessionId}`,
    `  root               ${meta.root}`,
    `  messages           ${n(report.messages)} replayed; history holds ${n(report.historyMessages)} (${report.historyIntact ? 'every message, identical, in order' : 'MISMATCH'})`,
    `  compactions        ${report.compactions.length}${report.failures.length ? `, ${report.failures.length} failed` : ''}`,
  ];
  if (report.compactions.length > 0) {
    lines.push('', '   #   after msg   tokens before -> after   messages folded   ms');
    report.compactions.forEach((c, i) => {
      lines.push(
        `  ${String(i + 1).padStart(2)}   ${String(c.afterMessage).padStart(9)}   ${n(c.tokensBefore).padStart(13)} -> ${n(c.tokensAfter).padEnd(7)}   ${String(c.messagesCompacted).padStart(15)}   ${String(c.durationMs).padStart(4)}`,
      );
    });
    lines.push('');
  }
  lines.push(
    `  largest request    ${n(report.largestRequest)} of ${n(report.limit)} tokens (compaction at ${n(report.threshold)}); ${report.requests} requests, ${report.requestsOverLimit} over the limit`,
    `  addMessage time    p50 ${report.appendP50Ms.toFixed(2)} ms, p99 ${report.appendP99Ms.toFixed(2)} ms (token count + durable write, fdatasync per append)`,
    `  total time         ${(report.totalMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}

/**
 * Runs the demo and returns its report.
 * @throws SessionError for a transcript that does not load.
 */
export async function runDemo(options: DemoOptions = {}): Promise<ReplayReport> {
  const out = options.out ?? ((line: string) => console.log(line));
  const file = options.transcript ?? bundledConversation();
  const transcript = await loadTranscript(file);
  const root = options.root ?? (await mkdtemp(path.join(os.tmpdir(), 'dagent-sessions-demo-')));
  const runtime = await createSessionRuntime({ root, ...(options.maxTokens ? { limits: { maxTokens: options.maxTokens } } : {}) });
  try {
    const session = await runtime.createSession(
      { type: 'task', agentType: 'dev', featureId: 'demo', taskId: 'replay', taskState: 'in_dev' },
      { context: { featureName: 'Replay of a recorded agent session', featureGoal: `Replay ${transcript.source}`, taskTitle: 'Replay', taskState: 'in_dev' } },
    );
    if (!options.json) {
      out(`dagent-sessions demo: ${transcript.messages.length} messages from ${path.basename(file)} through session ${session.id}`);
      out(`limit ${n(session.limits.maxTokens)} tokens, compaction at ${Math.round(session.limits.compactAt * 100)}%, compactor: ${runtime.compactor.name}\n`);
    }
    const progress = createProgress('replaying', !options.json && (options.interactive ?? process.stderr.isTTY === true));
    const report = await replayConversation(runtime, session.id, transcript.messages, { onProgress: (d, t) => progress.update(d, t) });
    progress.stop();
    out(options.json ? JSON.stringify({ source: transcript.source, root, sessionId: session.id, ...report }, null, 2) : formatReport(report, { source: transcript.source, root, sessionId: session.id }));
    return report;
  } finally {
    await runtime.close();
  }
}

/**
 * `dagent-sessions demo [--transcript FILE] [--root DIR] [--max-tokens N] [--json]`.
 * Exit 0; 2 when the history lost a message or a request passed the limit; 1 on errors.
 * @example await demoCommand(['--max-tokens', '20000'], processIO)
 */
export const demoCommand: CliCommand = defineCommand(
  {
    name: 'demo',
    usage: USAGE,
    options: {
      transcript: { type: 'string' },
      root: { type: 'string' },
      'max-tokens': { type: 'string' },
      json: { type: 'boolean' },
    },
  },
  async ({ values }, io) => {
    const maxTokens = intOption(values['max-tokens'], '--max-tokens', 1);
    const report = await runDemo({
      ...(values.transcript ? { transcript: values.transcript } : {}),
      ...(values.root ? { root: values.root } : {}),
      ...(maxTokens ? { maxTokens } : {}),
      json: values.json === true,
      out: (line) => io.out(line),
      interactive: io.interactive,
    });
    return report.historyIntact && report.requestsOverLimit === 0 ? 0 : 2;
  },
);
