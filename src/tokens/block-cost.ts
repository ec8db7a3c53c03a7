/**
 * What one content block costs in a request, in two parts: the text the model reads (counted
 * exactly by the estimator, on the counting worker when it is large) and a fixed number of tokens
 * for what is not text (images by their pixels, PDFs by their pages, opaque payloads by their
 * size). Base64 is never part of the text.
 */
import type { ContentBlock } from '../core/types.js';
import { elidedJson, toolResultText } from '../request/format-blocks.js';
import { PDF_PAGE_TOKENS, imageBlockTokens, imageSourceTokens, pdfPages } from './media-tokens.js';

/** The cost of a block: `text` to count, plus `fixed` tokens. */
export interface BlockCost {
  text: string;
  fixed: number;
}

/**
 * Characters of an opaque payload (encrypted search results or output, redacted thinking) per
 * token: the model reads what it decrypts to, which this cannot see; its base64 length is the
 * only measure at hand (about 3 bytes per 4 characters, 3 to 4 bytes per token of text).
 */
export const OPAQUE_CHARS_PER_TOKEN = 4;

/**
 * The cost of one block as sent in a Messages API list: text blocks by their text; `tool_use`,
 * `server_tool_use`, `mcp_tool_use` by name and JSON input; `tool_result`, `mcp_tool_result` by
 * their text, their images and documents at their fixed cost; `thinking` by its text; images by
 * their pixels; documents by their text (plain text or content sources) or pages (PDF); search
 * results by title, source and text; anything else by its JSON without payloads, each payload
 * counted as opaque.
 *
 * @example blockCost({ type: 'image', source }) // { text: '', fixed: 1334 } for 1000x1000
 */
export function blockCost(block: ContentBlock): BlockCost {
  if (block === null || typeof block !== 'object')
    return { text: typeof block === 'string' ? block : '', fixed: 0 };
  const b = block as unknown as Record<string, unknown>;
  switch (block.type) {
    case 'text':
      return { text: typeof block.text === 'string' ? block.text : '', fixed: 0 };
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      return payloadCost(`${String(block.name ?? '')}${elidedJson(block.input ?? {})}`, block.input);
    case 'tool_result':
    case 'mcp_tool_result':
    case 'search_result':
      return partsCost(
        b.content,
        block.type === 'search_result' ? `${String(b.title ?? '')}\n${String(b.source ?? '')}\n` : '',
      );
    case 'thinking':
      return { text: typeof block.thinking === 'string' ? block.thinking : '', fixed: 0 };
    case 'redacted_thinking':
      return { text: '', fixed: opaqueTokens(block.data) };
    case 'image':
      return { text: '', fixed: imageBlockTokens(block) };
    case 'document':
      return documentCost(b);
    default:
      return payloadCost(elidedJson(block), block);
  }
}

/** @internal The text of `value` without payloads, the payloads counted as fixed tokens. */
function payloadCost(text: string, value: unknown): BlockCost {
  let fixed = 0;
  elidedJson(value, (payload) => {
    fixed += typeof payload === 'string' ? opaqueTokens(payload) : mediaTokens(payload);
  });
  return { text, fixed };
}

/** @internal A list of parts (tool result, search result): text counted, media at their fixed cost. */
function partsCost(content: unknown, prefix: string): BlockCost {
  if (!Array.isArray(content)) return { text: prefix + toolResultText(content), fixed: 0 };
  const texts: string[] = [];
  let fixed = 0;
  for (const part of content as unknown[]) {
    const p = (part ?? {}) as { type?: unknown; text?: unknown };
    if (p.type === 'image' || p.type === 'document') {
      const cost = blockCost(part as ContentBlock);
      fixed += cost.fixed;
      if (cost.text !== '') texts.push(cost.text);
    } else texts.push(toolResultText([part]));
  }
  return { text: prefix + texts.join('\n'), fixed };
}

/** @internal A document: its title and context, its text, or its pages at {@link PDF_PAGE_TOKENS}. */
function documentCost(block: Record<string, unknown>): BlockCost {
  const source = (block.source ?? {}) as Record<string, unknown>;
  const head = [block.title, block.context].filter((t): t is string => typeof t === 'string' && t !== '');
  if (source.type === 'text') return { text: [...head, String(source.data ?? '')].join('\n'), fixed: 0 };
  if (source.type === 'content') {
    if (typeof source.content === 'string') return { text: [...head, source.content].join('\n'), fixed: 0 };
    const parts = partsCost(source.content, '');
    return { text: [...head, parts.text].join('\n'), fixed: parts.fixed };
  }
  const pages = pdfPages(block as never);
  return { text: head.join('\n'), fixed: (pages ?? 0) * PDF_PAGE_TOKENS };
}

/** @internal The fixed cost of a media block met inside a structure (an image, a fetched PDF). */
function mediaTokens(block: object): number {
  const b = block as { type?: unknown; source?: unknown };
  if (b.type === 'image') return imageSourceTokens(b.source as never);
  return b.type === 'document' ? documentCost(block as Record<string, unknown>).fixed : 0;
}

/** @internal Tokens of an opaque payload of `value`'s length. */
function opaqueTokens(value: unknown): number {
  return typeof value === 'string' ? Math.ceil(value.length / OPAQUE_CHARS_PER_TOKEN) : 0;
}
