/**
 * Message content as readable text: every content block as a line or a label (an image as
 * `[image: image/png, 800x600, 41230 bytes]`, a document by its title and text, a search's hits,
 * a program's output), payloads (base64, encrypted, signed) never as text. Used by the flattened
 * form of requests, compaction prompts and the CLI; pure.
 */
import type { ContentBlock } from '../core/types.js';
import { base64Bytes, imageSize } from '../tokens/media-size.js';

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
      return (
        `[tool_result ${String(block.tool_use_id)}]${block.is_error === true ? ' [error]' : ''} ` +
        `${toolResultText(block.content)}`
      );
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
      return (
        `[mcp_tool_result ${String(block.tool_use_id)}]${block.is_error === true ? ' [error]' : ''} ` +
        `${toolResultText(block.content)}`
      );
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
