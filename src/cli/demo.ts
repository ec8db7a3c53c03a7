/**
 * `dagent-sessions demo`: replays a long conversation through a session with the offline
 * compactor and prints what happened.
 */
import path from 'node:path';
import { loadTranscript, parseTranscript } from '../integration/transcript.js';
import { replayConversation, type ReplayReport } from '../integration/replay.js';
import { OfflineCompactor } from '../compaction/offline-compactor.js';
import type { MessageInput, SessionContext, SessionKey } from '../core/types.js';
import { loadInspectorAssets } from '../inspector/bundle.js';
import { createInspectorHandler } from '../inspector/page-handler.js';
import { advertiseHost } from '../ipc/host-file.js';
import { serveSessions } from '../ipc/http.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import { createTokenEstimator } from '../tokens/token-estimator.js';
import { pmConversation, qaConversation } from './demo-conversations.js';
import { demoDevConversation } from './demo-dev-conversation.js';
import { createDemoRoot } from './demo-root.js';
import { untilStopped } from './until-stopped.js';
import { defineCommand, intOption } from './command.js';
import type { CliCommand } from './io.js';
import { packageRoot } from './package-info.js';
import { createProgress } from './progress.js';

const USAGE =
  'Usage: dagent-sessions demo [--transcript FILE] [--root DIR] [--max-tokens N] [--port N] ' +
  `[--no-serve] [--json]

Replays conversations through three agent sessions with the offline compactor (no API key
needed): a long Dev session scripted over the package's own files (~380k tokens, made when the
demo starts), and conversations scripted from the project's docs through a PM and a QA session.
Prints, per session, every compaction, the largest request against the limit and the append
time; then serves the inspector on the sessions and prints its URL, until Ctrl+C. Exit code 2
when a message was lost or a request passed the limit.

Without --root, the sessions are written to a new directory dagent-sessions-demo-XXXXXX in the
system's temporary directory (printed), removed when the demo ends; such directories left by
earlier runs that were killed (or by older versions) are removed when the demo starts.

Options:
  --transcript FILE   replay FILE (the format of the shared transcripts) through the Dev session
                      instead of the scripted one
  --root DIR          write sessions under DIR/.dagent and keep them (default: a temporary root)
  --max-tokens N      the Dev session's token limit (default 100000)
  --port N            the inspector's port (default: any free port)
  --no-serve          only print the summary
  --json              print the reports as JSON (and do not serve)
  -h, --help          show this help`;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /**
   * A transcript in the format of the shared transcripts; default: the Dev conversation scripted
   * over the package's files.
   */
  transcript?: string;
  /** Where sessions are written, and kept; default: a new temporary directory, removed when the demo ends. */
  root?: string;
  maxTokens?: number;
  json?: boolean;
  out?: (line: string) => void;
  /** Draw a progress bar on stderr; default: when stderr is a terminal and the output is not JSON. */
  interactive?: boolean;
  /** Serve the inspector on the sessions afterwards (default true; never with `json`). */
  serve?: boolean;
  port?: number;
  /** Ends the serving (tests); SIGINT and SIGTERM do too. */
  stop?: AbortSignal;
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');

/** Renders a report as the demo prints it. */
export function formatReport(
  report: ReplayReport,
  meta: { source: string; root: string; sessionId: string },
): string {
  const lines = [
    `Replayed ${meta.source}`,
    `  session            ${meta.sessionId}`,
    `  root               ${meta.root}`,
    `  messages           ${n(report.messages)} replayed; history holds ${n(report.historyMessages)} ` +
      `(${report.historyIntact ? 'every message, identical, in order' : 'MISMATCH'})`,
    `  compactions        ${report.compactions.length}` +
      `${report.failures.length ? `, ${report.failures.length} failed` : ''}`,
  ];
  if (report.compactions.length > 0) {
    lines.push('', '   #   after msg   tokens before -> after   messages folded   ms');
    report.compactions.forEach((c, i) => {
      lines.push(
        `  ${String(i + 1).padStart(2)}   ${String(c.afterMessage).padStart(9)}   ` +
          `${n(c.tokensBefore).padStart(13)} -> ${n(c.tokensAfter).padEnd(7)}   ` +
          `${String(c.messagesCompacted).padStart(15)}   ${String(c.durationMs).padStart(4)}`,
      );
    });
    lines.push('');
  }
  lines.push(
    `  largest request    ${n(report.largestRequest)} of ${n(report.limit)} tokens (compaction ` +
      `at ${n(report.threshold)}); ${report.requests} requests, ${report.requestsOverLimit} over the limit`,
    `  addMessage time    p50 ${report.appendP50Ms.toFixed(2)} ms, ` +
      `p99 ${report.appendP99Ms.toFixed(2)} ms (durable write, fdatasync per append; ` +
      `text, tool calls and results counted beside it, other blocks before it)`,
    `  total time         ${(report.totalMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}

/** One replayed session of the demo. */
export interface DemoSession {
  agent: string;
  sessionId: string;
  source: string;
  report: ReplayReport;
}

/** What the demo did. */
export interface DemoReport {
  root: string;
  /** The root was made by the demo and is removed when it ends (no `root` option). */
  temporary: boolean;
  sessions: DemoSession[];
  /** The inspector's URL while it served (not with `serve: false`). */
  url: string | null;
}

/**
 * Runs the demo: replays the bundled conversation through a Dev session, and conversations
 * scripted from the project's docs through a PM and a QA session, with the offline compactor;
 * prints a report per session; then, unless `serve` is false, serves the inspector on them until
 * SIGINT/SIGTERM (or `stop`).
 * @throws SessionError for a transcript that does not load.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const out = options.out ?? ((line: string) => console.log(line));
  const transcript =
    options.transcript === undefined
      ? parseTranscript(await demoDevConversation(packageRoot()), 'the scripted Dev conversation')
      : await loadTranscript(options.transcript);
  const devSource =
    options.transcript === undefined
      ? "a Dev session scripted over the package's own files"
      : `${path.basename(options.transcript)} (${transcript.source})`;
  const demoRoot = await createDemoRoot(options.root);
  if (!options.json && demoRoot.swept.length > 0)
    out(`Removed ${demoRoot.swept.length} demo root(s) left by earlier runs: ${demoRoot.swept.join(', ')}`);
  try {
    return await replayAndServe(options, out, { messages: transcript.messages, source: devSource }, demoRoot);
  } finally {
    await demoRoot.dispose();
  }
}

/** @internal The demo once its root is there: replays, prints, serves; closes the runtime. */
async function replayAndServe(
  options: DemoOptions,
  out: (line: string) => void,
  dev: { messages: MessageInput[]; source: string },
  { root, temporary }: { root: string; temporary: boolean },
): Promise<DemoReport> {
  const estimator = createTokenEstimator();
  const runtime = await createSessionRuntime({
    root,
    estimator,
    compactor: new OfflineCompactor({ estimator }),
    ...(options.maxTokens ? { limits: { maxTokens: options.maxTokens } } : {}),
    // Smaller windows for the shorter PM and QA conversations, so that they compact too.
    agents: { pm: { limits: { maxTokens: 3_000 } }, qa: { limits: { maxTokens: 2_500 } } },
  });
  const interactive = !options.json && (options.interactive ?? process.stderr.isTTY === true);
  const rootNote = temporary ? `${root} (temporary: removed when the demo ends; --root DIR keeps it)` : root;
  const sessions: DemoSession[] = [];
  const replay = async (
    agent: string,
    key: SessionKey,
    source: string,
    messages: MessageInput[],
    context: SessionContext,
  ) => {
    const session = await runtime.createSession(key, { context });
    if (!options.json) {
      out(`\n${agent}: ${messages.length} messages from ${source} through session ${session.id}`);
      out(
        `limit ${n(session.limits.maxTokens)} tokens, ` +
          `compaction at ${Math.round(session.limits.compactAt * 100)}%, ` +
          `compactor: ${runtime.compactor.name}\n`,
      );
    }
    const progress = createProgress(`replaying (${agent})`, interactive);
    const report = await replayConversation(runtime, session.id, messages, {
      onProgress: (d, t) => progress.update(d, t),
    });
    progress.stop();
    if (!options.json) out(formatReport(report, { source, root: rootNote, sessionId: session.id }));
    sessions.push({ agent, sessionId: session.id, source, report });
  };
  try {
    const featureContext = {
      featureName: 'dagent-sessions',
      featureGoal: 'Keep long agent conversations inside their token limit without losing a word',
    };
    await replay(
      'PM',
      { type: 'feature', agentType: 'pm', featureId: 'demo' },
      'README.md and docs/ (planning)',
      await pmConversation(packageRoot()),
      featureContext,
    );
    await replay(
      'Dev',
      { type: 'task', agentType: 'dev', featureId: 'demo', taskId: 'replay', taskState: 'in_dev' },
      dev.source,
      dev.messages,
      {
        ...featureContext,
        taskTitle: 'Replay of a recorded agent session',
        taskState: 'in_dev',
      },
    );
    await replay(
      'QA',
      { type: 'task', agentType: 'qa', featureId: 'demo', taskId: 'replay', taskState: 'in_qa' },
      'docs/ (verification)',
      await qaConversation(packageRoot()),
      {
        ...featureContext,
        taskTitle: 'Verify the documented behaviour',
        taskState: 'in_qa',
      },
    );
    if (options.json) out(JSON.stringify({ root, temporary, sessions }, null, 2));
    if (options.serve === false || options.json) return { root, temporary, sessions, url: null };
    const server = await serveSessions(runtime, {
      host: '127.0.0.1',
      port: options.port ?? 0,
      page: createInspectorHandler(await loadInspectorAssets()),
    });
    const withdraw = await advertiseHost(root, server.url);
    const stop = untilStopped({ signal: options.stop });
    try {
      out(`\nInspector: ${server.url}/  (the three sessions above; Ctrl+C stops)`);
      // From a checkout (npm start runs the sources with tsx) or from an installed package.
      const cli = import.meta.url.endsWith('.ts') ? 'npx tsx src/cli/main.ts' : 'npx dagent-sessions';
      out(
        `Try, from another shell: ${cli} compact ${sessions[0]?.sessionId ?? ''} --root ${root} --keep-recent-tokens 0`,
      );
      await stop.done;
      return { root, temporary, sessions, url: server.url };
    } finally {
      stop.dispose();
      await withdraw();
      await server.close();
    }
  } finally {
    await runtime.close();
  }
}

/**
 * `dagent-sessions demo [--transcript FILE] [--root DIR] [--max-tokens N] [--port N] [--no-serve] [--json]`.
 * Exit 0 (after serving, on Ctrl+C); 2 when a history lost a message or a request passed the
 * limit; 1 on errors.
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
      port: { type: 'string' },
      'no-serve': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  },
  async ({ values }, io) => {
    const maxTokens = intOption(values['max-tokens'], '--max-tokens', 1);
    const port = intOption(values.port, '--port', 0);
    const report = await runDemo({
      serve: values['no-serve'] !== true,
      ...(port === undefined ? {} : { port }),
      ...(values.transcript ? { transcript: values.transcript } : {}),
      ...(values.root ? { root: values.root } : {}),
      ...(maxTokens ? { maxTokens } : {}),
      json: values.json === true,
      out: (line) => io.out(line),
      interactive: io.interactive,
    });
    return report.sessions.every((s) => s.report.historyIntact && s.report.requestsOverLimit === 0) ? 0 : 2;
  },
);
