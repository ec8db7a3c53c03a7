/**
 * `dagent-sessions show ID`: one session's figures, its checkpoint and its last messages.
 */
import type { Checkpoint, Message } from '../core/types.js';
import { CHECKPOINT_SECTIONS, contentToText } from '../request/format.js';
import { renderLedgerSections } from '../request/format-ledger.js';
import type { SessionInfo, SizeEstimate } from '../runtime/types.js';
import { defineCommand, intOption } from './command.js';
import { n, oneLine, shortTime } from './format.js';
import type { CliCommand } from './io.js';
import { stateOf } from './list-command.js';
import { withRuntime } from './open-runtime.js';

const DEFAULT_MESSAGES = 10;

const USAGE = `Usage: dagent-sessions show ID [--root DIR] [--messages N] [--full] [--json]

Shows session ID: its key, state and figures, the request size now, its checkpoint (completed,
in progress, pending, decisions, blockers, checks) and its last N live messages. Reads only:
works while a host holds the root.

Options:
  --root DIR        the root (default: the current directory)
  --messages N      how many of the last live messages to show (default ${DEFAULT_MESSAGES}; 0 for none)
  --full            print those messages whole instead of one line each
  --json            print { session, size, checkpoint, context, agentDescription, messages } as JSON
  -h, --help        show this help`;

/** @internal The key of a session on one line. */
export function keyText(info: SessionInfo): string {
  const k = info.key;
  return k.type === 'feature'
    ? `feature ${k.featureId}, agent ${k.agentType}`
    : `feature ${k.featureId}, task ${k.taskId} (${k.taskState}), agent ${k.agentType}`;
}

function infoLines(info: SessionInfo, size: SizeEstimate): string[] {
  const l = info.limits;
  const lines = [
    `Session ${info.id}`,
    `  key          ${keyText(info)}`,
    `  state        ${stateOf(info)}${info.status === 'archived' ? ' (read-only)' : ''}`,
    `  created      ${shortTime(info.createdAt)}, updated ${shortTime(info.updatedAt)}`,
    `  messages     ${n(info.liveMessages)} live (${n(info.liveTokens)} ` +
      `tokens); ${n(info.stats.totalMessages)} in the whole history (${n(info.stats.totalTokens)} tokens)`,
    `  checkpoint   version ${info.checkpointVersion}` +
      `${info.archivedThroughSeq >= 0 ? `, archived through message #${info.archivedThroughSeq}` : ''}; ` +
      `${info.stats.totalCompactions} compaction${info.stats.totalCompactions === 1 ? '' : 's'}` +
      `${info.stats.lastCompactionAt ? `, last ${shortTime(info.stats.lastCompactionAt)}` : ''}`,
    `  request now  ${n(size.total)} of ${n(size.limit)} tokens (compaction ` +
      `at ${n(size.threshold)})${size.needsCompaction ? ': needs compaction' : ''}`,
    `  limits       ${n(l.maxTokens)} tokens, compaction at ${Math.round(l.compactAt * 100)}%, ` +
      `keep ${n(l.keepRecentTokens)} recent, ` +
      `reply ${n(l.replyReserveTokens)}, checkpoint ${n(l.checkpointTokens)}`,
    `  compactor    ${info.compactor}`,
  ];
  if (info.error) lines.push(`  error        ${info.error.message} (${info.error.code})`);
  return lines;
}

function checkpointLines(checkpoint: Checkpoint | null): string[] {
  if (checkpoint === null) return ['', 'No checkpoint yet (no compaction has run).'];
  const c = checkpoint.compactionInfo;
  const lines = [
    '',
    `Checkpoint v${checkpoint.version} (${n(checkpoint.tokens)} ` +
      `tokens, ${c.compactor}, ${n(c.archivedMessages)} messages archived)`,
  ];
  for (const [key, title] of CHECKPOINT_SECTIONS) {
    const items = checkpoint.summary[key];
    lines.push(`  ${title}:${items.length === 0 ? ' -' : ''}`);
    for (const item of items) lines.push(`    - ${item}`);
  }
  // The ledger's sections as the request shows them: `### Title` becomes `  Title:`.
  const ledgerSections = Object.values(renderLedgerSections(checkpoint.ledger)) as string[];
  for (const section of ledgerSections.filter((s) => s !== ''))
    lines.push(
      ...section.split('\n').map((line) => (line.startsWith('### ') ? `  ${line.slice(4)}:` : `    ${line}`)),
    );
  for (const check of checkpoint.checks ?? []) {
    lines.push(
      `  Check ${check.checkId}: ` +
        `${check.passed ? 'passed' : `failed${check.error ? `: ${oneLine(check.error, 200)}` : ''}`}`,
    );
  }
  return lines;
}

function messageLines(messages: Message[], live: number, full: boolean): string[] {
  if (messages.length === 0) return [];
  const lines = ['', `Last ${messages.length} of ${n(live)} live messages:`];
  for (const m of messages) {
    const head = `  #${m.seq}  ${shortTime(m.timestamp)}  ${m.role.padEnd(9)} ${String(m.tokens).padStart(6)} tok`;
    const text = contentToText(m.content);
    if (full) lines.push(head, ...text.split('\n').map((line) => `      ${line}`));
    else lines.push(`${head}  ${oneLine(text, 100)}`);
  }
  return lines;
}

/**
 * `dagent-sessions show ID [--root DIR] [--messages N] [--full] [--json]`.
 * Exit 0; 1 with `SESSION_NOT_FOUND` when there is no such session.
 * @example await showCommand(['feature--f1--pm', '--messages', '5'], processIO)
 */
export const showCommand: CliCommand = defineCommand(
  {
    name: 'show',
    usage: USAGE,
    positionals: ['ID'],
    options: {
      root: { type: 'string' },
      messages: { type: 'string' },
      full: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  },
  async ({ values, positionals: [id = ''] }, io) => {
    const count = intOption(values.messages, '--messages') ?? DEFAULT_MESSAGES;
    const data = await withRuntime({ root: values.root, command: 'show', write: false }, async (runtime) => {
      const session = await runtime.getSession(id);
      const live = await runtime.getMessages(id);
      return {
        session,
        size: await runtime.estimateSize(id),
        checkpoint: await runtime.getCheckpoint(id),
        context: await runtime.getContext(id),
        agentDescription: await runtime.getAgentDescription(id),
        messages: count === 0 ? [] : live.slice(-count),
      };
    });
    if (values.json) {
      io.out(JSON.stringify(data, null, 2));
      return 0;
    }
    io.out(
      [
        ...infoLines(data.session, data.size),
        ...checkpointLines(data.checkpoint),
        ...messageLines(data.messages, data.session.liveMessages, values.full === true),
      ].join('\n'),
    );
    return 0;
  },
);
