/**
 * A message's content as plain text for the page: blocks on their own lines, tool calls and
 * results tagged, never an image's or a document's base64.
 */
import type { ContentBlock, Message } from '../core/types.js';

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'tool_use':
      return `[tool_use ${block.name}] ${JSON.stringify(block.input)}`;
    case 'tool_result': {
      const text =
        typeof block.content === 'string'
          ? block.content
          : (block.content ?? []).map((b) => ('text' in b ? b.text : `[${b.type}]`)).join('\n');
      return `[tool_result${block.is_error ? ' (error)' : ''}] ${text}`;
    }
    case 'thinking':
      return `[thinking] ${block.thinking}`;
    case 'image':
    case 'document':
      return `[${block.type}]`; // never their base64 on the page
    default:
      return JSON.stringify(block);
  }
}

/**
 * A message's content as plain text: blocks on their own lines, tool calls and results tagged.
 * @example messageText({ ...message, content: [{ type: 'text', text: 'hi' }] }) // 'hi'
 */
export function messageText(message: Pick<Message, 'content'>): string {
  return typeof message.content === 'string' ? message.content : message.content.map(blockText).join('\n');
}
