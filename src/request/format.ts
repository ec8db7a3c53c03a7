/**
 * Pure markdown rendering of what goes into a request: the agent description, the context and the
 * checkpoint (message content as text is in ./format-blocks.ts, re-exported here). The token
 * estimator measures the checkpoint through {@link renderCheckpoint}, so what is counted is
 * exactly what is sent.
 */
import type {
  AgentDescription,
  CheckResult,
  CheckpointSummary,
  SessionContext,
  SessionLedger,
} from '../core/types.js';
import { safeJson } from './format-blocks.js';
import { oneLine, renderLedgerSections } from './format-ledger.js';

export { contentToText, elidedJson, safeJson, toolResultText } from './format-blocks.js';

/**
 * @internal The summary sections every checkpoint has, with their headings (`pending` is what
 * comes next). `goals` is optional and rendered first, see {@link renderCheckpoint}.
 */
export const CHECKPOINT_SECTIONS: ReadonlyArray<
  readonly [Exclude<keyof CheckpointSummary, 'goals'>, string]
> = [
  ['completed', 'Completed'],
  ['inProgress', 'In progress'],
  ['pending', 'Next'],
  ['decisions', 'Decisions'],
  ['blockers', 'Blockers'],
];

const CONTEXT_SECTIONS: ReadonlyArray<readonly [string, string]> = [
  ['featureName', 'Feature'],
  ['featureGoal', 'Goal'],
  ['taskTitle', 'Task'],
  ['taskState', 'Task state'],
  ['dagSummary', 'DAG'],
  ['dependencies', 'Dependencies'],
  ['dependents', 'Dependents'],
  ['projectNotes', 'Project notes'],
  ['recentCommits', 'Recent commits'],
  ['attachments', 'Attachments'],
];

/**
 * Renders a checkpoint as markdown: `## Checkpoint`, then one `### Section` per non-empty part:
 * the summary's goals, the ledger's status and task-loop iterations, the user's requests and
 * corrections, open problems, the ledger's reviews and decisions, then the summary's in progress,
 * next and decisions, the ledger's files and commands, the
 * summary's completed items and blockers (older checkpoints), and checks.
 *
 * Empty parts are omitted (they would cost tokens and say nothing), and a checkpoint with nothing
 * in it renders as `''`, so a session without one adds nothing to a request. Items are flattened to
 * one line (newlines become spaces) and blank items are skipped.
 *
 * @param summary - The summary sections of the checkpoint.
 * @param checks - Verification results, rendered `- [x] id` or `- [ ] id: error`.
 * @param ledger - The session ledger, when the checkpoint has one.
 * @returns The markdown, or `''` when there is nothing to show.
 * @example
 * ```ts
 * renderCheckpoint({ completed: [], inProgress: ['parser'], pending: [], decisions: [], blockers: [] });
 * // '## Checkpoint\n\n### In progress\n- parser'
 * ```
 */
export function renderCheckpoint(
  summary: CheckpointSummary,
  checks?: CheckResult[],
  ledger?: SessionLedger | null,
): string {
  const s = summary === null || typeof summary !== 'object' ? ({} as Partial<CheckpointSummary>) : summary;
  const list = (title: string, value: unknown): string => {
    const items = asList(value);
    return items.length === 0 ? '' : `### ${title}\n${items.map((item) => `- ${item}`).join('\n')}`;
  };
  const title = Object.fromEntries(CHECKPOINT_SECTIONS) as Record<keyof CheckpointSummary, string>;
  const l = renderLedgerSections(ledger);
  const checkLines = (Array.isArray(checks) ? checks : []).flatMap((check) => {
    if (check === null || typeof check !== 'object' || typeof check.checkId !== 'string') return [];
    const error =
      typeof check.error === 'string' && check.error.trim() !== '' ? `: ${oneLine(check.error)}` : '';
    return [
      check.passed === true ? `- [x] ${oneLine(check.checkId)}` : `- [ ] ${oneLine(check.checkId)}${error}`,
    ];
  });
  const parts = [
    list('Goals', s.goals),
    l.status,
    l.iterations,
    l.requests,
    l.problems,
    l.decisions,
    list(title.inProgress, s.inProgress),
    list(title.pending, s.pending),
    list(title.decisions, s.decisions),
    l.files,
    l.commands,
    l.names,
    list(title.completed, s.completed),
    list(title.blockers, s.blockers),
    checkLines.length > 0 ? `### Checks\n${checkLines.join('\n')}` : '',
  ].filter((part) => part !== '');
  return parts.length === 0 ? '' : `## Checkpoint\n\n${parts.join('\n\n')}`;
}

/**
 * Renders a session context as markdown: `## Context`, then `### Feature`, `### Goal`, `### Task`,
 * `### Task state`, `### DAG`, `### Dependencies`, `### Dependents`, `### Project notes`,
 * `### Recent commits`, `### Attachments`, then any extra key as `### <key>` (strings as text,
 * string lists as `- item` lines, anything else as compact JSON). Missing, null, blank and empty
 * values are skipped; an empty context renders as `''`.
 *
 * @param context - The content of context.json.
 * @returns The markdown, or `''`.
 * @example
 * ```ts
 * renderContext({ featureName: 'Login', dependencies: ['auth-api'] });
 * // '## Context\n\n### Feature\nLogin\n\n### Dependencies\n- auth-api'
 * ```
 */
export function renderContext(context: SessionContext): string {
  if (context === null || typeof context !== 'object') return '';
  const known = new Set(CONTEXT_SECTIONS.map(([key]) => key));
  const sections: string[] = [];
  for (const [key, title] of CONTEXT_SECTIONS) pushSection(sections, title, context[key]);
  for (const [key, value] of Object.entries(context)) {
    if (!known.has(key)) pushSection(sections, oneLine(key), value);
  }
  return sections.length === 0 ? '' : `## Context\n\n${sections.join('\n\n')}`;
}

/**
 * Renders an agent description as markdown: `## Agent`, then `### Role`, `### Instructions`,
 * `### Tools` (one `- tool` line each) and any extra key as `### <key>`. `null` renders as `''`.
 *
 * @param description - The content of agent-description.json, or null when there is none.
 * @returns The markdown, or `''`.
 * @example
 * ```ts
 * renderAgentDescription({ role: 'Developer', tools: ['Bash'] });
 * // '## Agent\n\n### Role\nDeveloper\n\n### Tools\n- Bash'
 * ```
 */
export function renderAgentDescription(description: AgentDescription | null): string {
  if (description === null || typeof description !== 'object') return '';
  const sections: string[] = [];
  pushSection(sections, 'Role', description.role);
  pushSection(sections, 'Instructions', description.instructions);
  pushSection(sections, 'Tools', description.tools);
  for (const [key, value] of Object.entries(description)) {
    if (key !== 'role' && key !== 'instructions' && key !== 'tools')
      pushSection(sections, oneLine(key), value);
  }
  return sections.length === 0 ? '' : `## Agent\n\n${sections.join('\n\n')}`;
}

/** @internal The non-blank string items of a list, each on one line. */
function asList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((item): item is string => typeof item === 'string')
    .map(oneLine)
    .filter((item) => item !== '');
}

/** @internal Appends `### title` + body unless the value is empty. */
function pushSection(sections: string[], title: string, value: unknown): void {
  const body = renderValue(value);
  if (body !== '') sections.push(`### ${title}\n${body}`);
}

/** @internal Strings as trimmed text, string lists as `- item` lines, other values as JSON. */
function renderValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return asList(value)
      .map((item) => `- ${item}`)
      .join('\n');
  }
  if (Array.isArray(value) && value.length === 0) return '';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '';
  return safeJson(value);
}
