/**
 * `dagent-sessions replay FILE`: the demo's replay, of any conversation file, into `--root`.
 */
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import { replayConversation } from '../integration/replay.js';
import { readTranscriptFile } from '../integration/transcript-file.js';
import { choiceOption, defineCommand, intOption } from './command.js';
import { formatReport } from './demo.js';
import { n } from './format.js';
import type { CliCommand } from './io.js';
import { rootOf, withRuntime } from './open-runtime.js';
import { createProgress } from './progress.js';
import { KEY_OPTIONS, keyUsage, sessionKeyOf } from './session-key.js';

const USAGE = `Usage: dagent-sessions replay FILE [--root DIR] [--max-tokens N] [--feature ID] [--task ID]
                              [--agent TYPE] [--state STATE] [--format F] [--skip-invalid]
                              [--append] [--offline] [--json]

Replays the conversation in FILE through a session under DIR as an agent loop would: before
every assistant turn the request is checked against the limit, waiting for the compaction it
needs. Prints every compaction, the largest request against the limit and the append latency;
exit code 2 when a message was lost or a request passed the limit. Needs the root's write lock.

FILE is a transcript in the format of the shared transcripts (.json) or a Claude Code session
log (.jsonl); see "dagent-sessions import --help".

Options:
  --root DIR           the root (default: the current directory)
  --max-tokens N       the session's token limit (default 100000)
${keyUsage('replay')}
  --format F           auto (default), transcript or claude-code
  --skip-invalid       Claude Code logs: leave out lines that do not parse instead of failing
  --append             replay into the session even if it already holds messages
  --offline            use the offline compactor even when ANTHROPIC_API_KEY is set
  --json               print the report as JSON
  -h, --help           show this help`;

/**
 * `dagent-sessions replay FILE [...]`. Exit 0; 2 when the history lost a message or a request
 * passed the limit; 1 on errors (`ROOT_LOCKED`, a file that does not load...).
 * @example await replayCommand(['transcript.json', '--root', '/tmp/r', '--max-tokens', '20000'], processIO)
 */
export const replayCommand: CliCommand = defineCommand(
  {
    name: 'replay',
    usage: USAGE,
    positionals: ['FILE'],
    options: {
      root: { type: 'string' },
      'max-tokens': { type: 'string' },
      ...KEY_OPTIONS,
      format: { type: 'string' },
      'skip-invalid': { type: 'boolean' },
      append: { type: 'boolean' },
      offline: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  },
  async ({ values, positionals: [file = ''] }, io) => {
    const maxTokens = intOption(values['max-tokens'], '--max-tokens', 1);
    const format = choiceOption(values.format, '--format', ['auto', 'transcript', 'claude-code']) ?? 'auto';
    const key = sessionKeyOf(values, file, 'replay');
    const loaded = await readTranscriptFile(file, { format, skipInvalid: values['skip-invalid'] === true });
    const { transcript } = loaded;
    const root = rootOf(values.root);
    const options = {
      root,
      command: 'replay',
      write: true,
      offline: values.offline === true,
      ...(maxTokens ? { limits: { maxTokens } } : {}),
    };
    const { report, sessionId } = await withRuntime(options, async (runtime) => {
      const session = await runtime.createSession(key, {
        context: {
          featureName: 'Replay of a recorded agent session',
          featureGoal: `Replay ${transcript.source}`,
          taskTitle: `Replay of ${path.basename(file)}`,
        },
      });
      if (session.stats.totalMessages > 0 && !values.append) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'cli',
          `session ${session.id} already holds ${session.stats.totalMessages} messages; ` +
            `pass --append to replay into it anyway, or --task ID for another session`,
        );
      }
      if (!values.json) {
        io.out(
          `dagent-sessions replay: ${n(transcript.messages.length)} messages ` +
            `from ${path.basename(file)} (${loaded.format}) through session ${session.id}`,
        );
        io.out(
          `limit ${n(session.limits.maxTokens)} tokens, ` +
            `compaction at ${Math.round(session.limits.compactAt * 100)}%, ` +
            `compactor: ${runtime.compactor.name}\n`,
        );
        for (const s of loaded.skipped ?? []) io.err(`skipped line ${s.line}: ${s.reason}`);
      }
      const progress = createProgress('replaying', io.interactive && !values.json);
      try {
        const result = await replayConversation(runtime, session.id, transcript.messages, {
          onProgress: (d, t) => progress.update(d, t),
        });
        return { report: result, sessionId: session.id };
      } finally {
        progress.stop();
      }
    });
    const meta = { source: transcript.source, root, sessionId };
    io.out(
      values.json
        ? JSON.stringify(
            { ...meta, format: loaded.format, skipped: loaded.skipped ?? [], ...report },
            null,
            2,
          )
        : formatReport(report, meta),
    );
    return report.historyIntact && report.requestsOverLimit === 0 ? 0 : 2;
  },
);
