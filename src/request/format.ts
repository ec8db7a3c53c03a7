/**
 * Pure markdown rendering of what goes into a request: the agent description, the context, the
 * checkpoint, and a readable flattening of message content. The token estimator measures the
 * checkpoint through {@link renderCheckpoint}, so what is counted is exactly what is sent.
 */
import type {
  AgentDescription,
  CheckResult,
  CheckpointSummary,
  ContentBlock,
  SessionContext,
} from '../core/types.js';

/** @internal The checkpoint sections in the order they are rendered, with their headings. */
export const CHECKPOINT_SECTIONS: ReadonlyArray<readonly [keyof CheckpointSummary, string]> = [
  ['completed', 'Completed'],
  ['inProgress', 'In progress'],
  ['pending', 'Pending'],
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
 * Renders a checkpoint summary (and optional check results) as markdown: `## Checkpoint`, then one
 * `### <Section>` per non-empty section with `- item` lines, then `### Checks` when checks are given.
 *
 * Empty sections are omitted (they would cost tokens and say nothing), and a summary with no items
 * and no checks renders as `''`, so a session without a checkpoint adds nothing to a request. Items
 * are flattened to one line (newlines become spaces) and blank items are skipped.
 *
 * @param summary - The five sections of the checkpoint.
 * @param checks - Verification results, rendered `- [x] id` or `- [ ] id: error`.
 * @returns The markdown, or `''` when there is nothing to show.
 * @example
 * ```ts
 * renderCheckpoint({ completed: ['ran `npm test` (ok)'], inProgress: [], pending: [], decisions: [], blockers: [] });
 * // '## Checkpoint\n\n### Completed\n- ran `npm test` (ok)'
 * ```
 */
export function renderCheckpoint(summary: CheckpointSummary, checks?: CheckResult[]): string {
  const parts: string[] = [];
  for (const [key, title] of CHECKPOINT_SECTIONS) {
    const items = asList(summary === null || typeof summary !== 'object' ? undefined : summary[key]);
    if (items.length > 0) parts.push(`### ${title}\n${items.map((item) => `- ${item}`).join('\n')}`);
  }
  const checkLines = (Array.isArray(checks) ? checks : []).flatMap((check) => {
    if (check === null || typeof check !== 'object' || typeof check.checkId !== 'string') return [];
    const error =
      typeof check.error === 'string' && check.error.trim() !== '' ? `: ${oneLine(check.error)}` : '';
    return [
      check.passed === true ? `- [x] ${oneLine(check.checkId)}` : `- [ ] ${oneLine(check.checkId)}${error}`,
    ];
  });
  if (checkLines.length > 0) parts.push(`### Checks\n${checkLines.join('\n')}`);
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

/**
 * Flattens message content into readable text, one block per line: text as is,
 * `[tool_use Bash] {"command":"ls"}`, `[tool_result toolu_1] output` (with `[error]` after the id
 * when `is_error`), `[thinking] ...`; an unknown block renders as `[<type>] <json>`.
 *
 * @param content - A message's content: a string or Anthropic-style blocks.
 * @returns The flattened text (a string content is returned unchanged).
 * @example
 * ```ts
 * contentToText([{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }]);
 * // '[tool_use Bash] {"command":"ls"}'
 * ```
 */
export function contentToText(content: string | ContentBlock[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map(blockToText).join('\n');
}

/** @internal One block as {@link contentToText} shows it. */
function blockToText(block: ContentBlock): string {
  if (block === null || typeof block !== 'object') return String(block);
  switch (block.type) {
    case 'text':
      return String(block.text ?? '');
    case 'tool_use':
      return `[tool_use ${String(block.name)}] ${safeJson(block.input ?? {})}`;
    case 'tool_result':
      return `[tool_result ${String(block.tool_use_id)}]${block.is_error === true ? ' [error]' : ''} ${toolResultText(block.content)}`;
    case 'thinking':
      return `[thinking] ${String(block.thinking ?? '')}`;
    default: {
      const type = (block as { type?: unknown }).type;
      return `[${typeof type === 'string' ? type : 'block'}] ${safeJson(block)}`;
    }
  }
}

/**
 * @internal The text of a tool_result's content (a string, or text blocks joined by newlines).
 */
export function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : safeJson(content);
  return content
    .map((part: unknown) => {
      if (
        part !== null &&
        typeof part === 'object' &&
        typeof (part as { text?: unknown }).text === 'string'
      ) {
        return (part as { text: string }).text;
      }
      return typeof part === 'string' ? part : safeJson(part);
    })
    .join('\n');
}

/** @internal JSON.stringify that never throws (cycles, BigInt) and never returns undefined. */
export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** @internal Collapses every whitespace run (newlines included) to one space and trims. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
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
