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
  SessionLedger,
} from '../core/types.js';
import { base64Bytes, imageSize } from '../tokens/media-size.js';
import { renderLedgerSections } from './format-ledger.js';

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
 * the summary's goals, the ledger's status, the user's requests and corrections, open problems,
 * then the summary's in progress, next and decisions, the ledger's files and commands, the
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
    l.requests,
    l.problems,
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

/**
 * Flattens message content into readable text, one block per line: text as is,
 * `[tool_use Bash] {"command":"ls"}`, `[tool_result toolu_1] output` (with `[error]` after the id
 * when `is_error`), `[thinking] ...`, `[redacted_thinking]`, an image as
 * `[image: image/png, 800x600, 41230 bytes]` (its size read from its header; a URL or file as
 * such), a document by its title and text (a PDF by its size), a search result by its title,
 * source and text, server tool calls and results (`[server_tool_use web_search] {...}`,
 * `[web_search_tool_result srvtoolu_1]` with one `- title (url)` line per result, code execution
 * output...), MCP calls and results; any other block as `[<type>] <json>`. Base64 and encrypted
 * payloads are never shown: they become `<N bytes>` placeholders.
 *
 * @param content - A message's content: a string or Anthropic-style blocks.
 * @returns The flattened text (a string content is returned unchanged).
 * @example
 * ```ts
 * contentToText([{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }]);
 * // '[tool_use Bash] {"command":"ls"}'
 * ```
 */
export function contentToText(content: string | readonly ContentBlock[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map(blockToText).join('\n');
}

/** @internal One block as {@link contentToText} shows it. */
function blockToText(block: ContentBlock): string {
  if (block === null || typeof block !== 'object') return String(block);
  const b = block as unknown as Record<string, unknown>;
  switch (block.type) {
    case 'text':
      return String(block.text ?? '');
    case 'tool_use':
      return `[tool_use ${String(block.name)}] ${safeJson(block.input ?? {})}`;
    case 'tool_result':
      return `[tool_result ${String(block.tool_use_id)}]${block.is_error === true ? ' [error]' : ''} ${toolResultText(block.content)}`;
    case 'thinking':
      return `[thinking] ${String(block.thinking ?? '')}`;
    case 'redacted_thinking':
      return '[redacted_thinking]';
    case 'image':
      return describeImage(block.source);
    case 'document':
      return describeDocument(b);
    case 'search_result':
      return `[search_result: ${String(b.title ?? '')} (${String(b.source ?? '')})] ${toolResultText(b.content)}`;
    case 'server_tool_use':
      return `[server_tool_use ${String(block.name)}] ${elidedJson(block.input ?? {})}`;
    case 'mcp_tool_use':
      return `[mcp_tool_use ${String(block.server_name)}/${String(block.name)}] ${elidedJson(block.input ?? {})}`;
    case 'mcp_tool_result':
      return `[mcp_tool_result ${String(block.tool_use_id)}]${block.is_error === true ? ' [error]' : ''} ${toolResultText(block.content)}`;
    case 'container_upload':
      return `[container_upload ${String(block.file_id)}]`;
    case 'compaction':
      return `[compaction] ${typeof block.content === 'string' ? block.content : ''}`.trimEnd();
    default: {
      const type = b.type;
      if (typeof type === 'string' && type.endsWith('_tool_result') && typeof b.tool_use_id === 'string')
        return `[${type} ${b.tool_use_id}] ${serverResultText(b.content)}`.trimEnd();
      return `[${typeof type === 'string' ? type : 'block'}] ${elidedJson(block)}`;
    }
  }
}

/**
 * @internal An image as a label: `[image: image/png, 800x600, 41230 bytes]` (the size when its
 * header is readable), `[image: https://...]`, `[image: file file_...]`.
 */
export function describeImage(source: unknown): string {
  const s = (source ?? {}) as Record<string, unknown>;
  if (s.type === 'url') return `[image: ${String(s.url)}]`;
  if (s.type === 'file') return `[image: file ${String(s.file_id)}]`;
  if (s.type !== 'base64' || typeof s.data !== 'string') return `[image] ${elidedJson(source)}`;
  const size = imageSize(s.data);
  const parts = [
    typeof s.media_type === 'string' ? s.media_type : 'unknown type',
    ...(size === null ? [] : [`${size.width}x${size.height}`]),
    `${base64Bytes(s.data)} bytes`,
  ];
  return `[image: ${parts.join(', ')}]`;
}

/**
 * @internal A document as text: `[document: Title]` (and its context) then its text (a text
 * source, or content blocks); a PDF as `[document: Title, application/pdf, N bytes]`.
 */
function describeDocument(block: Record<string, unknown>): string {
  const source = (block.source ?? {}) as Record<string, unknown>;
  const title = typeof block.title === 'string' && block.title.trim() !== '' ? block.title.trim() : null;
  const context =
    typeof block.context === 'string' && block.context.trim() !== '' ? `\n${block.context}` : '';
  let what: string[] = [];
  let body = '';
  if (source.type === 'text') body = String(source.data ?? '');
  else if (source.type === 'content')
    body =
      typeof source.content === 'string' ? source.content : contentToText(source.content as ContentBlock[]);
  else if (source.type === 'base64' && typeof source.data === 'string')
    what = [String(source.media_type ?? 'application/pdf'), `${base64Bytes(source.data)} bytes`];
  else if (source.type === 'url') what = [String(source.url)];
  else if (source.type === 'file') what = [`file ${String(source.file_id)}`];
  const label = [...(title === null ? [] : [title]), ...what].join(', ');
  return `[document${label === '' ? '' : `: ${label}`}]${context}${body === '' ? '' : `\n${body}`}`;
}

/** @internal The readable part of a server tool's result (search hits, fetched page, program output). */
function serverResultText(content: unknown): string {
  const c = (content ?? {}) as Record<string, unknown>;
  if (Array.isArray(content)) {
    return content
      .map((item: unknown) => {
        const r = (item ?? {}) as Record<string, unknown>;
        if (r.type === 'web_search_result') return `- ${String(r.title ?? '')} (${String(r.url ?? '')})`;
        return elidedJson(item);
      })
      .join('\n');
  }
  if (typeof c.error_code === 'string') return `[error] ${c.error_code}`;
  if (c.type === 'web_fetch_result')
    return `${String(c.url ?? '')}\n${describeDocument((c.content ?? {}) as Record<string, unknown>)}`;
  if (typeof c.return_code === 'number') {
    const out =
      typeof c.stdout === 'string'
        ? c.stdout
        : typeof c.encrypted_stdout === 'string'
          ? '(output encrypted)'
          : '';
    const err = typeof c.stderr === 'string' && c.stderr !== '' ? `\n${c.stderr}` : '';
    return `exit ${c.return_code}\n${out}${err}`;
  }
  if (Array.isArray(c.tool_references))
    return (c.tool_references as Array<{ tool_name?: unknown }>).map((r) => String(r?.tool_name)).join(', ');
  if (typeof c.content === 'string') return c.content;
  return elidedJson(content);
}

/**
 * @internal The text of a tool_result's content (a string, or its blocks joined by newlines: text
 * as is, images and documents as {@link contentToText} labels, never their base64).
 */
export function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : safeJson(content);
  return content
    .map((part: unknown) => {
      if (part !== null && typeof part === 'object') {
        const p = part as { type?: unknown; text?: unknown };
        if (typeof p.text === 'string' && (p.type === 'text' || p.type === undefined)) return p.text;
        if (typeof p.type === 'string') return blockToText(part as ContentBlock);
      }
      return typeof part === 'string' ? part : safeJson(part);
    })
    .join('\n');
}

/** Keys whose values are opaque to the model as text: encrypted or signed payloads. */
const OPAQUE_KEYS = new Set([
  'data',
  'encrypted_content',
  'encrypted_stdout',
  'encrypted_index',
  'signature',
]);
/** A long string of nothing but base64 characters: a payload, not text. */
const BASE64_RUN = /^[A-Za-z0-9+/=_-]{256,}$/;

/**
 * @internal JSON of a value with its payloads left out: images as their labels, opaque values
 * (encrypted, signed, base64) as `<N bytes>`, PDFs as their labels. What the value says, for
 * reading and counting; `onPayload` hears of each payload left out (a string, or a media block).
 */
export function elidedJson(value: unknown, onPayload?: (payload: string | object) => void): string {
  const seen = new Set<object>();
  try {
    return (
      JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
        if (typeof v === 'string') {
          if ((OPAQUE_KEYS.has(key) && v.length > 64) || BASE64_RUN.test(v)) {
            onPayload?.(v);
            return `<${base64Bytes(v)} bytes>`;
          }
          return v;
        }
        if (v !== null && typeof v === 'object') {
          if (seen.has(v)) return '[cycle]';
          seen.add(v);
          const media = v as { type?: unknown; source?: { type?: unknown } };
          if (media.type === 'image') {
            onPayload?.(v);
            return describeImage(media.source);
          }
          if (media.type === 'document' && media.source?.type === 'base64') {
            onPayload?.(v);
            return describeDocument(v as Record<string, unknown>);
          }
        }
        return v;
      }) ?? String(value)
    );
  } catch {
    return String(value);
  }
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
