/**
 * Every content block through `send`, with the real SDK against our Messages API server: the
 * reply is stored exactly as the API returned it (redacted thinking, server tool calls and
 * results, citations), and the next request sends it back unchanged; an image inside a
 * tool_result reaches the API as an image block, its base64 intact.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';
import { startMessagesApiServer, type MessagesApiServer } from '../support/messages-api-server.js';
import { PNG_37X23 } from '../support/sdk-block-samples.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'blocks' };
const MODEL = 'claude-test-1';
let server: MessagesApiServer;
let client: Anthropic;

beforeAll(async () => {
  server = await startMessagesApiServer();
  client = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
});
afterAll(async () => server.close());

/** A reply as the API gives it with thinking, web search and citations on (wire format). */
const REPLY = [
  { type: 'thinking', thinking: 'Search first, then answer.', signature: 'EuYBCkQYAiJA0sig' },
  { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT' },
  {
    type: 'server_tool_use',
    id: 'srvtoolu_01',
    name: 'web_search',
    input: { query: 'dagent sessions compaction' },
    caller: { type: 'direct' },
  },
  {
    type: 'web_search_tool_result',
    tool_use_id: 'srvtoolu_01',
    caller: { type: 'direct' },
    content: [
      {
        type: 'web_search_result',
        title: 'Compaction',
        url: 'https://example.com/wiki/compaction',
        encrypted_content: 'EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2',
        page_age: null,
      },
    ],
  },
  {
    type: 'text',
    text: 'Compaction keeps every message in the archive.',
    citations: [
      {
        type: 'web_search_result_location',
        cited_text: 'keeps every message',
        encrypted_index: 'Eo8BCioIAhgBIiQyYjQ0',
        title: 'Compaction',
        url: 'https://example.com/wiki/compaction',
      },
    ],
  },
];

describe('send stores the reply exactly as the API returned it', () => {
  it('thinking, redacted thinking, a server tool call and its result, text with citations', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), client, model: MODEL });
    const { id } = await runtime.createSession(KEY);
    server.replyWith(REPLY);
    const result = await runtime.send(id, 'How does compaction work?');
    expect(result.message.content).toEqual(REPLY);
    expect((await runtime.getMessages(id))[1]?.content).toEqual(REPLY);

    // The next turn sends it back unchanged (the breakpoints aside).
    const before = server.requests.length;
    await runtime.send(id, 'Thanks. And the checkpoint?');
    const sent = server.requests.slice(before).find((r) => r.path === '/v1/messages');
    const messages = (sent?.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    expect(messages[1]).toEqual({ role: 'assistant', content: REPLY });
    await runtime.close();
  });

  it('an image inside a tool_result goes to the API as an image block, base64 intact', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), client, model: MODEL });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, { role: 'user', content: 'Take a screenshot of the inspector.' });
    await runtime.addMessage(id, {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_01', name: 'screenshot', input: { width: 420 } }],
    });
    const screenshot = {
      type: 'image' as const,
      source: { type: 'base64' as const, media_type: 'image/png', data: PNG_37X23 },
    };
    await runtime.addMessage(id, {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_01',
          content: [{ type: 'text', text: 'At 420 px:' }, screenshot],
        },
      ],
    });
    const before = server.requests.length;
    await runtime.send(id, 'What do you see?');
    const sent = server.requests.slice(before).find((r) => r.path === '/v1/messages');
    const messages = (sent?.body as { messages: Array<{ content: Array<Record<string, unknown>> }> })
      .messages;
    const result = messages[2]?.content[0] as { type: string; content: Array<Record<string, unknown>> };
    expect(result.type).toBe('tool_result');
    expect(result.content[1]).toEqual(screenshot);
    expect(JSON.stringify(messages.map((m) => m.content.filter((b) => b.type === 'text')))).not.toContain(
      PNG_37X23.slice(0, 32),
    );
    // The server counted the image by its pixels (37x23: 2 tokens), not its base64.
    expect(sent?.inputTokens).toBeLessThan(200);
    await runtime.close();
  });
});
