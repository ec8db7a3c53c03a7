/**
 * `dagent-sessions preview ID`: the request the session would send next, broken down by part.
 */
import type { SessionRequest } from '../runtime/conversation.js';
import { choiceOption, defineCommand } from './command.js';
import { n, table } from './format.js';
import type { CliCommand } from './io.js';
import { withRuntime } from './open-runtime.js';

const USAGE = `Usage: dagent-sessions preview ID [--root DIR] [--message TEXT] [--format flattened|messages]
                               [--prompt] [--json]

Shows the request session ID would send next (agent description, context, checkpoint, live
messages, the new user message, room for the reply) with the tokens of each part, changing
nothing: no compaction runs, so a request past the threshold shows the messages it would leave
out. Reads only: works while a host holds the root.

Options:
  --root DIR        the root (default: the current directory)
  --message TEXT    the new user message (default: none)
  --format F        flattened (messages in the system prompt; default) or messages (a Messages
                    API list)
  --prompt          also print the system prompt and the messages
  --json            print the whole request (systemPrompt, messages, breakdown...) as JSON
  -h, --help        show this help`;

/** @internal The breakdown table of a request. */
export function formatBreakdown(
  id: string,
  request: SessionRequest,
  format: string,
  limit: number | null,
): string {
  const b = request.breakdown;
  const rows: [string, number][] = [
    ['agent description', b.agentDescription],
    ['context', b.context],
    ['checkpoint', b.checkpoint],
    ['messages', b.messages],
    ['user message', b.userPrompt],
    ['reply reserve', b.replyReserve],
  ];
  const pct = (value: number) => (b.total > 0 ? `${((value / b.total) * 100).toFixed(1)}%` : '-');
  const lines = [
    `Request of ${id} (format ${format}, token correction of ${request.model})`,
    '',
    table(
      [{ header: 'PART' }, { header: 'TOKENS', right: true }, { header: 'SHARE', right: true }],
      [...rows.map(([name, value]) => [name, n(value), pct(value)]), ['total', n(b.total), '100%']],
    ),
    '',
    `  ${n(request.totalTokens)}${limit === null ? '' : ` of ${n(limit)}`} ` +
      `tokens: ${request.fits ? 'fits' : 'does NOT fit, even without any message'}`,
  ];
  if (request.omittedMessages > 0) {
    lines.push(
      `  ${n(request.omittedMessages)} oldest messages (${n(request.omittedTokens)} tokens) ` +
        `left out of this request to fit; a compaction would fold them`,
    );
  }
  if (request.compactionError)
    lines.push(`  compaction: ${request.compactionError.message} (${request.compactionError.code})`);
  return lines.join('\n');
}

/**
 * `dagent-sessions preview ID [--root DIR] [--message TEXT] [--format flattened|messages] [--prompt] [--json]`.
 * Exit 0; 1 with `SESSION_NOT_FOUND` when there is no such session.
 * @example await previewCommand(['feature--f1--pm', '--message', 'Continue'], processIO)
 */
export const previewCommand: CliCommand = defineCommand(
  {
    name: 'preview',
    usage: USAGE,
    positionals: ['ID'],
    options: {
      root: { type: 'string' },
      message: { type: 'string' },
      format: { type: 'string' },
      prompt: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  },
  async ({ values, positionals: [id = ''] }, io) => {
    const format = choiceOption(values.format, '--format', ['flattened', 'messages']) ?? 'flattened';
    const { request, limit } = await withRuntime(
      { root: values.root, command: 'preview', write: false },
      async (runtime) => ({
        request: await runtime.previewRequest(id, values.message, { format }),
        limit: (await runtime.getSession(id)).limits.maxTokens,
      }),
    );
    if (values.json) {
      io.out(JSON.stringify(request, null, 2));
      return 0;
    }
    io.out(formatBreakdown(id, request, format, limit));
    if (values.prompt) {
      io.out(`\n--- system prompt ---\n${request.systemPrompt}`);
      if (request.messages.length > 0)
        io.out(`\n--- messages ---\n${JSON.stringify(request.messages, null, 2)}`);
    }
    return 0;
  },
);
