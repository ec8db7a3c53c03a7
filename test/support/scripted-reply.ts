/**
 * The server-sent events of a reply whose content a test chose (any blocks: thinking, redacted
 * thinking, server tool calls and results, text with citations), streamed as the API streams
 * them: text in `text_delta`s and its citations in `citations_delta`s, tool inputs in
 * `input_json_delta`s, thinking in `thinking_delta`s then a `signature_delta`, and every other
 * block whole in its `content_block_start`.
 */
import type { WireMessage } from './fake-model-replies.js';

const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * @internal The events of `message`, its content streamed block by block, `chunkChars` per delta.
 */
export function scriptedEvents(message: WireMessage, chunkChars: number): string[] {
  const events = [
    sse('message_start', {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
    }),
  ];
  const chunks = (text: string) => {
    const pieces: string[] = [];
    for (let at = 0; at < text.length; at += chunkChars) pieces.push(text.slice(at, at + chunkChars));
    return pieces;
  };
  message.content.forEach((block, index) => {
    const delta = (d: unknown) =>
      events.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: d }));
    const start = (b: unknown) =>
      events.push(sse('content_block_start', { type: 'content_block_start', index, content_block: b }));
    if (block.type === 'text') {
      start({ type: 'text', text: '', citations: null });
      for (const piece of chunks(String(block.text))) delta({ type: 'text_delta', text: piece });
      for (const citation of (block.citations as unknown[] | null) ?? [])
        delta({ type: 'citations_delta', citation });
    } else if (block.type === 'tool_use' || block.type === 'server_tool_use') {
      start({ ...block, input: {} });
      for (const piece of chunks(JSON.stringify(block.input ?? {})))
        delta({ type: 'input_json_delta', partial_json: piece });
    } else if (block.type === 'thinking') {
      start({ type: 'thinking', thinking: '', signature: '' });
      for (const piece of chunks(String(block.thinking))) delta({ type: 'thinking_delta', thinking: piece });
      delta({ type: 'signature_delta', signature: block.signature });
    } else start(block);
    events.push(sse('content_block_stop', { type: 'content_block_stop', index }));
  });
  events.push(
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    }),
    sse('message_stop', { type: 'message_stop' }),
  );
  return events;
}
