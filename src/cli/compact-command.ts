/**
 * `dagent-sessions compact ID`: runs one compaction now and reports tokens before and after.
 */
import { defineCommand, intOption } from './command.js';
import { n } from './format.js';
import type { CliCommand } from './io.js';
import { forwardToHost } from './host.js';
import { withRuntime } from './open-runtime.js';
import { createProgress } from './progress.js';

const USAGE = `Usage: dagent-sessions compact ID [--root DIR] [--keep-recent-tokens N] [--offline] [--json]

Compacts session ID now: its older live messages are folded into the checkpoint and moved,
verbatim, to the archive; a recent tail is kept. When a host holds the root and advertises its
server (an app using serveSessions and advertiseHost, or \`dagent-sessions inspect\`), the compaction
is sent to that host; otherwise it needs the root's write lock and fails with ROOT_LOCKED while
another process has the root open.

Options:
  --root DIR                 the root (default: the current directory)
  --keep-recent-tokens N     tokens of recent messages to keep verbatim (default: the session's
                             keepRecentTokens limit)
  --offline                  use the offline compactor even when ANTHROPIC_API_KEY is set
  --json                     print the compaction's result as JSON
  -h, --help                 show this help`;

/**
 * `dagent-sessions compact ID [--root DIR] [--keep-recent-tokens N] [--offline] [--json]`.
 * Exit 0 (also when there was nothing to fold); 1 on errors (`SESSION_NOT_FOUND`, `ROOT_LOCKED`,
 * `COMPACTOR_*`, `COMPACTION_NO_PROGRESS`...).
 * @example await compactCommand(['feature--f1--pm', '--keep-recent-tokens', '2000'], processIO)
 */
export const compactCommand: CliCommand = defineCommand(
  {
    name: 'compact',
    usage: USAGE,
    positionals: ['ID'],
    options: {
      root: { type: 'string' },
      'keep-recent-tokens': { type: 'string' },
      offline: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  },
  async ({ values, positionals: [id = ''] }, io) => {
    const keepRecentTokens = intOption(values['keep-recent-tokens'], '--keep-recent-tokens');
    const progress = createProgress('compacting', io.interactive && !values.json);
    const options = keepRecentTokens === undefined ? {} : { keepRecentTokens };
    // A host holding the root (an app, `dagent-sessions inspect`) and advertising its server gets
    // the compaction: it reaches the host's runtime, and every page watching its events.
    const viaHost = await forwardToHost(values.root, (client) => client.compact(id, options));
    if (viaHost !== null && !values.json) io.err(`(through the host that holds the root, at ${viaHost.url})`);
    const result =
      viaHost !== null
        ? viaHost.value
        : await withRuntime(
            { root: values.root, command: 'compact', write: true, offline: values.offline === true },
            async (runtime) => {
              const unsubscribe = runtime.subscribe((event) => {
                if (
                  event.sessionId === id &&
                  event.type === 'session.compaction.progress' &&
                  event.chunk !== undefined &&
                  event.chunks !== undefined
                ) {
                  progress.update(event.chunk, event.chunks);
                }
              });
              try {
                return await runtime.compact(id, options);
              } finally {
                unsubscribe();
                progress.stop();
              }
            },
          );
    if (values.json) {
      io.out(JSON.stringify({ sessionId: id, ...result }, null, 2));
      return 0;
    }
    if (result.kind === 'nothing-to-fold') {
      io.out(`Nothing to compact in ${id}: ${result.reason}`);
      return 0;
    }
    io.out(
      [
        `Compacted ${id}: ${n(result.tokensBefore)} -> ${n(result.tokensAfter)} tokens`,
        `  ${n(result.messagesCompacted)} messages (${n(result.foldedTokens)} tokens) ` +
          `folded into checkpoint v${result.checkpointVersion} (${n(result.checkpointTokens)} tokens) ` +
          `by ${result.compactor} in ${n(result.durationMs)} ms`,
        `  the next request is ${result.underThreshold ? 'under' : 'still OVER'} the compaction ` +
          `threshold${result.escalation > 0 ? ` (escalation step ${result.escalation})` : ''}`,
      ].join('\n'),
    );
    return 0;
  },
);
