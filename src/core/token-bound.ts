/**
 * A proven upper bound of a message's exact token count, from its bytes alone: what a session
 * counts with until the exact count of a message is known (it is counted off the append's path).
 *
 * The bound: every token of cl100k_base and o200k_base stands for at least one UTF-8 byte (their
 * vocabularies hold no empty token, and byte-level BPE never merges to fewer bytes than a token),
 * and the long-run extrapolation of the exact counter multiplies a prefix's tokens by the run's
 * bytes per prefix byte, which is at most 1 per byte too. So a text costs at most its UTF-8 byte
 * length, and a message at most the bytes of the text it is counted by plus its framing.
 *
 * That covers the blocks whose cost is text (see `blockCost`): `text`, `thinking`, tool results of
 * text, and tool calls, counted by their name and the JSON of their input with long payloads
 * replaced by a short `<N bytes>` and counted at a token per 4 characters, which is less than the
 * payload's own bytes (a payload is at least 65 characters). Media cost by their pixels or pages,
 * which bytes do not bound: content with an image or a document anywhere has no bound.
 */
import type { ContentBlock } from './types.js';

/** Fixed tokens added per message for its role and framing (the estimator's too). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Fixed tokens added per content block for its framing (the estimator's too). */
export const BLOCK_OVERHEAD_TOKENS = 3;

/**
 * The upper bound of an exact (cl100k_base or o200k_base) count of a message with this content,
 * or null when it has none (media, or a block of another kind).
 *
 * @example
 * ```ts
 * textTokenBound('héllo'); // 6 bytes + 4 = 10, and the exact count is 6
 * textTokenBound([{ type: 'tool_result', tool_use_id: 't', content: 'ok' }]); // 2 + 3 + 4 = 9
 * textTokenBound([{ type: 'image', source }]); // null: counted exactly, not bounded
 * ```
 */
export function textTokenBound(content: string | readonly ContentBlock[]): number | null {
  if (typeof content === 'string') return Buffer.byteLength(content, 'utf8') + MESSAGE_OVERHEAD_TOKENS;
  if (!Array.isArray(content)) return null;
  let total = MESSAGE_OVERHEAD_TOKENS;
  for (const block of content as readonly ContentBlock[]) {
    const bytes = block !== null && typeof block === 'object' ? blockBytes(block) : null;
    if (bytes === null) return null;
    total += bytes + BLOCK_OVERHEAD_TOKENS;
  }
  return total;
}

/** @internal A bound of a block's cost without its framing, or null when it has none. */
function blockBytes(block: ContentBlock): number | null {
  const b = block as unknown as Record<string, unknown>;
  switch (block.type) {
    case 'text':
      return typeof b.text === 'string' ? Buffer.byteLength(b.text, 'utf8') : null;
    case 'thinking':
      return typeof b.thinking === 'string' ? Buffer.byteLength(b.thinking, 'utf8') : null;
    case 'tool_result':
      return resultBytes(b.content);
    case 'tool_use': {
      // Counted as name + JSON of the input (payloads elided, see above): at most these bytes.
      if (typeof b.name !== 'string') return null;
      let json: string | undefined;
      try {
        json = JSON.stringify(b.input ?? {});
      } catch {
        return null;
      }
      if (json === undefined || json.includes('"type":"image"') || json.includes('"type":"document"'))
        return null;
      return Buffer.byteLength(b.name, 'utf8') + Buffer.byteLength(json, 'utf8');
    }
    default:
      return null;
  }
}

/** @internal A tool result's text: a string, or text parts joined by line breaks; else no bound. */
function resultBytes(content: unknown): number | null {
  if (content === undefined || content === null) return 0;
  if (typeof content === 'string') return Buffer.byteLength(content, 'utf8');
  if (!Array.isArray(content)) return null;
  let bytes = Math.max(0, content.length - 1);
  for (const part of content as unknown[]) {
    const p = part as { type?: unknown; text?: unknown } | null;
    if (p === null || typeof p !== 'object' || p.type !== 'text' || typeof p.text !== 'string') return null;
    bytes += Buffer.byteLength(p.text, 'utf8');
  }
  return bytes;
}
