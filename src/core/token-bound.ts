/**
 * A proven upper bound of a text message's exact token count, from its bytes alone: what a session
 * counts with until the exact count of a message is known (it is counted off the append's path).
 *
 * The bound: every token of cl100k_base and o200k_base stands for at least one UTF-8 byte (their
 * vocabularies hold no empty token, and byte-level BPE never merges to fewer bytes than a token),
 * and the long-run extrapolation of the exact counter multiplies a prefix's tokens by the run's
 * bytes per prefix byte, which is at most 1 per byte too. So a text costs at most its UTF-8 byte
 * length, and a message at most that plus its framing. Only messages whose content is text (a
 * string, or `text` blocks) have a bound: media cost by their pixels or pages, not their bytes.
 */
import type { ContentBlock } from './types.js';

/** Fixed tokens added per message for its role and framing (the estimator's too). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Fixed tokens added per content block for its framing (the estimator's too). */
export const BLOCK_OVERHEAD_TOKENS = 3;

/**
 * The upper bound of an exact (cl100k_base or o200k_base) count of a message with this content,
 * or null when the content is not text only.
 *
 * @example
 * ```ts
 * textTokenBound('héllo'); // 6 bytes + 4 = 10, and the exact count is 6
 * textTokenBound([{ type: 'image', source }]); // null: counted exactly, not bounded
 * ```
 */
export function textTokenBound(content: string | readonly ContentBlock[]): number | null {
  if (typeof content === 'string') return Buffer.byteLength(content, 'utf8') + MESSAGE_OVERHEAD_TOKENS;
  if (!Array.isArray(content)) return null;
  let total = MESSAGE_OVERHEAD_TOKENS;
  for (const block of content as readonly ContentBlock[]) {
    if (
      block === null ||
      typeof block !== 'object' ||
      block.type !== 'text' ||
      typeof block.text !== 'string'
    )
      return null;
    total += Buffer.byteLength(block.text, 'utf8') + BLOCK_OVERHEAD_TOKENS;
  }
  return total;
}
