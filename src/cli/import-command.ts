/**
 * `dagent-sessions import FILE`: appends a recorded conversation to a session as it is, without
 * the replay's request checks. Reads the shared-transcripts JSON and Claude Code session logs.
 */
import path from 'node:path';
import { SessionError, isSessionError } from '../core/errors.js';
import type { Message, MessageInput } from '../core/types.js';
import { readTranscriptFile } from '../integration/transcript-file.js';
import type { SessionEvent } from '../runtime/events.js';
import type { SessionRuntime } from '../runtime/types.js';
import { validateMessageInput } from '../runtime/validate.js';
import { choiceOption, defineCommand } from './command.js';
import { count, n } from './format.js';
import type { CliCommand } from './io.js';
import { rootOf, withRuntime } from './open-runtime.js';
import { fileSha256, findImport, withImportMark, type EarlierImport } from './import-record.js';
import { createProgress } from './progress.js';
import { KEY_OPTIONS, keyUsage, sessionKeyOf } from './session-key.js';

const USAGE = `Usage: dagent-sessions import FILE [--root DIR] [--feature ID] [--task ID] [--agent TYPE]
                              [--state STATE] [--format F] [--skip-invalid] [--append] [--offline] [--json]

Appends the conversation in FILE to a session under DIR (created if needed), message by message,
timestamps kept. Unlike replay it does not check requests on the way; the session still
compacts by itself when it passes its threshold. Needs the root's write lock.

The first message of an import records the file's SHA-256 (metadata.import); importing the same
content into the same session again is refused, unless --append says to append it once more. An
import that was interrupted (Ctrl+C, a crash) resumes when run again: the messages it appended
are checked against the file and only the rest are appended.

FILE is one of
  - a transcript in the format of the shared transcripts (.json: { source, messages: [{ role,
    content, toolName? }] }): tool calls and results are paired in order,
  - a session export (what "dagent-sessions export ID --out FILE" writes): every message of the
    history with its role, content, timestamp and metadata as they were, into the session it was
    exported from (the same key) unless --feature, --task, --agent or --state say otherwise, or
  - a Claude Code session log (.jsonl, ~/.claude/projects/<project>/<session>.jsonl): one message
    per user/assistant line, tool calls and results paired by id (a result without its call is
    kept as text), thinking kept, summary and system lines as system messages; file snapshots,
    queue and progress lines are bookkeeping and are counted, not imported.

Options:
  --root DIR           the root (default: the current directory)
${keyUsage('import')}
  --format F           auto (default: .jsonl or JSON lines are Claude Code logs), transcript,
                       session-export or claude-code
  --skip-invalid       Claude Code logs: leave out lines that do not parse (they are listed)
                       instead of failing on the first
  --append             import FILE whole even if this session already holds an import of the same
                       content (also instead of resuming an interrupted one)
  --offline            use the offline compactor even when ANTHROPIC_API_KEY is set
  --json               print the report as JSON
  -h, --help           show this help`;

/** @internal Tool calls, results and orphans among messages, whatever their format. */
function toolCounts(messages: readonly MessageInput[]): {
  toolCalls: number;
  pairedResults: number;
  orphanResults: number;
} {
  let toolCalls = 0;
  let pairedResults = 0;
  let orphanResults = 0;
  for (const m of messages) {
    if (Array.isArray(m.content)) {
      for (const block of m.content) {
        if (block.type === 'tool_use') toolCalls++;
        else if (block.type === 'tool_result') pairedResults++;
      }
    }
    const cc = m.metadata?.claudeCode as { orphanToolResults?: unknown[] } | undefined;
    orphanResults += cc?.orphanToolResults?.length ?? (m.metadata?.orphanToolResult === true ? 1 : 0);
  }
  return { toolCalls, pairedResults, orphanResults };
}

/** @internal Checks every message before the first append, naming the line or index that is wrong. */
function validateAll(messages: readonly MessageInput[], file: string): void {
  messages.forEach((m, i) => {
    try {
      validateMessageInput(m);
    } catch (error) {
      if (!isSessionError(error)) throw error;
      const line = (m.metadata?.claudeCode as { line?: unknown } | undefined)?.line;
      const where = typeof line === 'number' ? `line ${line}` : `message ${i}`;
      throw new SessionError(
        'INVALID_MESSAGE',
        'cli',
        `${file} ${where} cannot be ` +
          `imported: ${error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')}; ` +
          `nothing was imported`,
        { cause: error },
      );
    }
  });
}

/** @internal The refusal of a second import of the same content. */
function alreadyImported(file: string, sessionId: string, earlier: EarlierImport): SessionError {
  const { mark, firstSeq, present } = earlier;
  return new SessionError(
    'INVALID_ARGUMENT',
    'cli',
    `${file} (sha256 ${mark.sha256.slice(0, 12)}…) was already imported into ${sessionId} at ${mark.at}: ` +
      `its ${mark.messages} messages are seq ${firstSeq} to ${firstSeq + mark.messages - 1}; nothing was ` +
      `imported. Pass --append to append it again, or --task ID for another session`,
    { details: { sessionId, sha256: mark.sha256, firstSeq, messages: mark.messages, present } },
  );
}

/**
 * @internal Where an interrupted import of the same content resumes: the number of the file's
 * messages already in the history (the tail of it, as the write lock leaves them), after checking
 * each against the file by role and content.
 * @throws SessionError `INVALID_ARGUMENT` when the history's tail is not the file's beginning.
 */
function resumePoint(
  file: string,
  sessionId: string,
  history: readonly Message[],
  earlier: EarlierImport,
  messages: readonly MessageInput[],
): number {
  const { mark, firstSeq, present } = earlier;
  const first = history.findIndex((m) => m.seq === firstSeq);
  const stored = first < 0 ? [] : history.slice(first, first + present);
  const mismatch = stored.findIndex((m, i) => !sameMessage(m, messages[i]));
  const at = mismatch >= 0 ? mismatch : stored.length < present ? stored.length : -1;
  if (at >= 0) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `${file} (sha256 ${mark.sha256.slice(0, 12)}…) was being imported into ${sessionId} at ${mark.at}, and ` +
        `that import was interrupted after ${present} of its ${mark.messages} messages, but seq ` +
        `${firstSeq + at} is not the file's message ${at}, so it cannot be resumed; nothing was imported. ` +
        `Pass --append to append the whole file again, or --task ID for another session`,
      { details: { sessionId, sha256: mark.sha256, firstSeq, messages: mark.messages, present } },
    );
  }
  return present;
}

function sameMessage(stored: Message, input: MessageInput | undefined): boolean {
  return (
    input !== undefined &&
    stored.role === input.role &&
    JSON.stringify(stored.content) === JSON.stringify(input.content)
  );
}

/** @internal Waits until a compaction the appends started has ended, so the report includes it. */
async function settle(runtime: SessionRuntime, id: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    let unsubscribe: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => {
      unsubscribe = runtime.subscribe((e) => {
        if (
          e.sessionId === id &&
          (e.type === 'session.compaction.completed' || e.type === 'session.compaction.failed')
        )
          resolve();
      });
    });
    try {
      if ((await runtime.getSession(id)).state !== 'compacting') return;
      await ended;
    } finally {
      unsubscribe();
    }
  }
}

/**
 * `dagent-sessions import FILE [...]`. Exit 0; 2 when the session's history does not hold every
 * message afterwards; 1 on errors (`ROOT_LOCKED`, a file or a line that does not load...).
 * @example await importCommand(['session.jsonl', '--feature', 'f1', '--task', 't1'], processIO)
 */
export const importCommand: CliCommand = defineCommand(
  {
    name: 'import',
    usage: USAGE,
    positionals: ['FILE'],
    options: {
      root: { type: 'string' },
      ...KEY_OPTIONS,
      format: { type: 'string' },
      'skip-invalid': { type: 'boolean' },
      append: { type: 'boolean' },
      offline: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  },
  async ({ values, positionals: [file = ''] }, io) => {
    const format =
      choiceOption(values.format, '--format', ['auto', 'transcript', 'claude-code', 'session-export']) ??
      'auto';
    const flagKey = sessionKeyOf(values, file, 'import');
    const loaded = await readTranscriptFile(file, { format, skipInvalid: values['skip-invalid'] === true });
    // A session export goes back into the session it was exported from, unless the flags name one.
    const byFlags = ['feature', 'task', 'agent', 'state'].some((flag) => values[flag as keyof typeof values]);
    const key = loaded.key !== undefined && !byFlags ? loaded.key : flagKey;
    const { messages } = loaded.transcript;
    validateAll(messages, file);
    const sha256 = await fileSha256(file);
    const root = rootOf(values.root);
    const compactions: { tokensBefore: number; tokensAfter: number; messagesCompacted: number }[] = [];
    const failures: { code: string; reason: string }[] = [];
    const outcome = await withRuntime(
      { root, command: 'import', write: true, offline: values.offline === true },
      async (runtime) => {
        const session = await runtime.createSession(key);
        const before = session.stats.totalMessages;
        const history = before === 0 ? [] : await runtime.getHistory(session.id);
        const earlier = findImport(history, sha256);
        // An import that was interrupted (Ctrl+C, a crash) resumes where it stopped: appending the
        // whole file again would repeat the messages it had already appended.
        let start = 0;
        if (earlier !== null && values.append !== true) {
          if (earlier.present === earlier.mark.messages) throw alreadyImported(file, session.id, earlier);
          start = resumePoint(file, session.id, history, earlier, messages);
        }
        const mark = {
          sha256,
          file: path.basename(file),
          messages: messages.length,
          at: new Date().toISOString(),
        };
        const unsubscribe = runtime.subscribe((e: SessionEvent) => {
          if (e.sessionId !== session.id) return;
          if (e.type === 'session.compaction.completed')
            compactions.push({
              tokensBefore: e.tokensBefore,
              tokensAfter: e.tokensAfter,
              messagesCompacted: e.messagesCompacted,
            });
          if (e.type === 'session.compaction.failed') failures.push({ code: e.code, reason: e.reason });
        });
        const progress = createProgress('importing', io.interactive && !values.json);
        try {
          for (let i = start; i < messages.length; i++) {
            const message = messages[i]!;
            await runtime.addMessage(session.id, i === 0 ? withImportMark(message, mark) : message);
            progress.update(i + 1, messages.length);
          }
          await settle(runtime, session.id);
          return {
            sessionId: session.id,
            resumed:
              earlier === null || start === 0
                ? null
                : { ...earlier.mark, firstSeq: earlier.firstSeq, present: start },
            before,
            after: (await runtime.getSession(session.id)).stats.totalMessages,
          };
        } finally {
          progress.stop();
          unsubscribe();
        }
      },
    );
    const tools = loaded.stats ?? { ...toolCounts(messages), unansweredCalls: [] as string[] };
    const appended = messages.length - (outcome.resumed?.present ?? 0);
    const complete = outcome.after === outcome.before + appended;
    const report = {
      file: path.resolve(file),
      sha256,
      format: loaded.format,
      source: loaded.transcript.source,
      root,
      sessionId: outcome.sessionId,
      appended,
      resumed: outcome.resumed,
      historyMessages: outcome.after,
      complete,
      toolCalls: tools.toolCalls,
      pairedResults: tools.pairedResults,
      orphanResults: tools.orphanResults,
      unansweredCalls: tools.unansweredCalls,
      ...(loaded.stats ? { stats: loaded.stats } : {}),
      skipped: loaded.skipped ?? [],
      compactions,
      failures,
    };
    if (values.json) {
      io.out(JSON.stringify(report, null, 2));
      return complete ? 0 : 2;
    }
    const kind = {
      'claude-code': 'Claude Code log',
      transcript: 'transcript',
      'session-export': 'session export',
    }[loaded.format];
    const lines = [
      `Imported ${path.basename(file)} (${kind}) into ${outcome.sessionId} under ${root}`,
      `  messages       ${n(appended)} appended; the session's history ` +
        `holds ${n(outcome.after)}${complete ? '' : ` (expected ${n(outcome.before + appended)}: MISMATCH)`}`,
      ...(outcome.resumed === null
        ? []
        : [
            `  resumed        the import of ${outcome.resumed.at} was interrupted: its first ` +
              `${n(outcome.resumed.present)} messages (from seq ${outcome.resumed.firstSeq}) were there already`,
          ]),
      `  tool calls     ${n(report.toolCalls)}; ${count(report.pairedResults, 'result')} ` +
        `paired with their call, ${n(report.orphanResults)} without their call kept as text` +
        (report.unansweredCalls.length > 0
          ? `, ${count(report.unansweredCalls.length, 'call')} without a result`
          : ''),
    ];
    if (loaded.stats) {
      const s = loaded.stats;
      lines.push(
        `  other          ${count(s.systemMessages, 'summary/system line')} as system messages; ` +
          `${count(s.sidechainMessages, 'sidechain message')}; ` +
          `${count(s.unsupportedBlocks, 'block')} kept in metadata (images...)`,
      );
      const ignored = Object.entries(s.ignored);
      if (ignored.length > 0)
        lines.push(
          `  not imported   ${ignored.map(([type, count]) => `${type} x${count}`).join(', ')} ` +
            `(Claude Code bookkeeping)`,
        );
    }
    for (const s of report.skipped) lines.push(`  skipped        line ${s.line}: ${s.reason}`);
    lines.push(
      `  compactions    ${compactions.length}` +
        `${failures.length > 0 ? `, ${failures.length} failed (${failures[0]?.code ?? ''})` : ''}`,
    );
    io.out(lines.join('\n'));
    return complete ? 0 : 2;
  },
);
