/**
 * `dagent-sessions list`: the sessions of a root, as a table or JSON.
 */
import { AGENT_TYPES, TASK_STATES } from '../core/types.js';
import { SessionError } from '../core/errors.js';
import type { SessionInfo } from '../runtime/types.js';
import { defineCommand } from './command.js';
import { n, shortTime, table } from './format.js';
import type { CliCommand } from './io.js';
import { listSessionsOf } from './list-sessions.js';
import { rootOf } from './root-dir.js';

const SESSION_STATES = [
  'loading',
  'idle',
  'appending',
  'compacting',
  'failed',
  'closed',
  'active',
  'archived',
] as const;

const USAGE = `Usage: dagent-sessions list [--root DIR] [--agent TYPE] [--feature ID] [--state STATE] [--json]

Lists the sessions under DIR/.dagent/sessions: id, agent, state, messages (whole history),
tokens, checkpoint version and last update. Reads only: works while a host holds the root.
Figures are those saved in each session's session.json; a session open in a running host may
have more by now.

Options:
  --root DIR        the root (default: the current directory)
  --agent TYPE      only sessions of this agent: ${AGENT_TYPES.join(', ')}
  --feature ID      only sessions of this feature
  --state STATE     only sessions in this task state (${TASK_STATES.join(', ')}) or session
                    state (${SESSION_STATES.join(', ')})
  --json            print the sessions (SessionInfo objects) as a JSON array
  -h, --help        show this help`;

/** @internal The state column: `archived` for archived sessions, else the actor's state. */
export function stateOf(info: SessionInfo): string {
  return info.status === 'archived' ? 'archived' : info.state;
}

function matches(
  info: SessionInfo,
  filter: { agent?: string | undefined; feature?: string | undefined; state?: string | undefined },
): boolean {
  if (filter.agent !== undefined && info.key.agentType !== filter.agent) return false;
  if (filter.feature !== undefined && info.key.featureId !== filter.feature) return false;
  if (filter.state !== undefined) {
    const taskState = info.key.type === 'task' ? info.key.taskState : undefined;
    const states = [taskState, info.state, info.status, stateOf(info)];
    if (!states.includes(filter.state)) return false;
  }
  return true;
}

/**
 * `dagent-sessions list [--root DIR] [--agent TYPE] [--feature ID] [--state STATE] [--json]`.
 * Exit 0, also when no session matches.
 * @example await listCommand(['--root', '/repo', '--json'], processIO)
 */
export const listCommand: CliCommand = defineCommand(
  {
    name: 'list',
    usage: USAGE,
    options: {
      root: { type: 'string' },
      agent: { type: 'string' },
      feature: { type: 'string' },
      state: { type: 'string' },
      json: { type: 'boolean' },
    },
  },
  async ({ values }, io) => {
    if (values.agent !== undefined && !(AGENT_TYPES as readonly string[]).includes(values.agent)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'cli',
        `--agent must be one of ${AGENT_TYPES.join(', ')}, got ${JSON.stringify(values.agent)}`,
      );
    }
    if (values.state !== undefined && ![...TASK_STATES, ...SESSION_STATES].includes(values.state as never)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'cli',
        `--state must be a task state (${TASK_STATES.join(', ')}) ` +
          `or a session state (${SESSION_STATES.join(', ')}), got ${JSON.stringify(values.state)}`,
      );
    }
    // Read from the store, without a runtime: the command stays as quick as Node's own start.
    const sessions = await listSessionsOf(values.root);
    const shown = sessions.filter((s) => matches(s, values));
    if (values.json) {
      io.out(JSON.stringify(shown, null, 2));
      return 0;
    }
    const root = rootOf(values.root);
    if (shown.length === 0) {
      io.out(
        sessions.length === 0
          ? `No sessions under ${root}.`
          : `No session of the ${sessions.length} under ${root} matches.`,
      );
      return 0;
    }
    const rows = shown.map((s) => [
      s.id,
      s.key.agentType,
      stateOf(s),
      n(s.stats.totalMessages),
      n(s.stats.totalTokens),
      String(s.checkpointVersion),
      shortTime(s.updatedAt),
    ]);
    io.out(
      table(
        [
          { header: 'ID' },
          { header: 'AGENT' },
          { header: 'STATE' },
          { header: 'MESSAGES', right: true },
          { header: 'TOKENS', right: true },
          { header: 'CHECKPOINT', right: true },
          { header: 'UPDATED' },
        ],
        rows,
      ),
    );
    const failed = shown.filter((s) => s.error !== null);
    for (const s of failed) io.err(`${s.id}: ${s.error?.message ?? ''} (${s.error?.code ?? ''})`);
    io.out(
      `\n${shown.length} of ${sessions.length} session${sessions.length === 1 ? '' : 's'} under ${root}`,
    );
    return 0;
  },
);
