/**
 * The test Messages API server, exercised with the real SDK: wire format, token counting,
 * deterministic replies, every scripted fault, and that it bounds itself.
 */
import Anthropic, {
  APIConnectionTimeoutError,
  AuthenticationError,
  InternalServerError,
  NotFoundError,
  OverloadedError,
} from '@anthropic-ai/sdk';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { describe, expect, it } from 'vitest';
import { buildCheckpointPrompt } from '../../src/compaction/checkpoint-prompt.js';
import { storedMessage } from '../helpers/fixtures.js';
import { startTestMessagesApi } from '../helpers/messages-api.js';
import { requestText, summaryFromPrompt, type MessagesApiServerOptions } from './messages-api-server.js';

async function start(options: MessagesApiServerOptions = {}) {
  const server = await startTestMessagesApi(options);
  const client = new Anthropic({
    apiKey: 'test-key',
    baseURL: server.url,
    maxRetries: 0,
    timeout: 30_000, // loopback, but a loaded machine is slow: only the timeout test sets a short one
    logLevel: 'off',
  });
  return { server, client };
}

const MESSAGES = [
  storedMessage(0, 'user', 'Please fix src/parser.ts'),
  storedMessage(1, 'assistant', [
    { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'npm test' } },
  ]),
  storedMessage(2, 'user', 'Thanks. TODO: update README.md'),
];

function checkpointRequest(
  checkpoint: Parameters<typeof buildCheckpointPrompt>[0]['checkpoint'] = null,
  budgetTokens = 2_000,
) {
  const prompt = buildCheckpointPrompt({ checkpoint, messages: MESSAGES, budgetTokens });
  return {
    model: 'claude-test',
    max_tokens: 1_000,
    system: prompt.system,
    messages: prompt.messages,
    tools: [prompt.tool],
    tool_choice: { type: 'tool' as const, name: 'record_checkpoint' },
  };
}

describe('messages-api-server', () => {
  it(
    'answers a forced record_checkpoint with a summary built from the prompt, ' +
      'and counts tokens with the Claude tokenizer',
    async () => {
      const { server, client } = await start();
      const body = checkpointRequest({
        completed: ['set up the repo'],
        inProgress: [],
        pending: [],
        decisions: ['use ESM'],
        blockers: [],
      });
      const message = await client.messages.create(body);
      expect(message.stop_reason).toBe('tool_use');
      const block = message.content[0];
      expect(block?.type).toBe('tool_use');
      const input = (block as { input: Record<string, string[]> }).input;
      expect(input.completed).toEqual([
        'set up the repo',
        'message 0 (user): src/parser.ts',
        'message 1 (assistant): `npm test`',
        'message 2 (user): README.md',
      ]);
      expect(input.decisions).toEqual(['use ESM']);
      expect(input.pending).toEqual(['message 2: TODO update README.md']);
      const tokenizer = getTokenizer();
      expect(message.usage.input_tokens).toBe(
        tokenizer.encode(requestText(body as never).normalize('NFKC'), 'all').length,
      );
      tokenizer.free();
      const counted = await client.messages.countTokens({
        model: body.model,
        system: body.system,
        messages: body.messages,
        tools: body.tools,
      });
      expect(counted.input_tokens).toBe(message.usage.input_tokens);
      expect(server.requests.map((r) => r.path)).toEqual(['/v1/messages', '/v1/messages/count_tokens']);
      expect(server.requests[0]?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(server.requests[0]?.headers.authorization ?? server.requests[0]?.headers['x-api-key']).toMatch(
        /test-key/,
      );
    },
  );

  it('streams the events of the real API in order, and echoes a plain conversation turn', async () => {
    const { client } = await start({ chunkChars: 16 });
    const stream = await client.messages.create({ ...checkpointRequest(), stream: true });
    const types: string[] = [];
    for await (const event of stream)
      types.push(event.type === 'content_block_delta' ? `delta:${event.delta.type}` : event.type);
    expect(types[0]).toBe('message_start');
    expect(types.slice(1, 2)).toEqual(['content_block_start']);
    expect(types.filter((t) => t === 'delta:input_json_delta').length).toBeGreaterThan(3);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const final = await client.messages
      .stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hello there' }] })
      .finalMessage();
    expect(final.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: hello there' })]);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('consumes scripted faults first in first out, then the default behaviour', async () => {
    const { server, client } = await start();
    server.script([
      { kind: 'status', status: 529 },
      { kind: 'status', status: 500 },
    ]);
    const body = checkpointRequest();
    await expect(client.messages.create(body)).rejects.toBeInstanceOf(OverloadedError);
    await expect(client.messages.create(body)).rejects.toBeInstanceOf(InternalServerError);
    expect((await client.messages.create(body)).stop_reason).toBe('tool_use');
    server.setDefault({ kind: 'prose' });
    const prose = await client.messages.create(body);
    expect(prose.content[0]).toMatchObject({ type: 'text' });
    expect(server.requests.map((r) => r.answer)).toEqual(['status', 'status', 'ok', 'prose']);
  });

  it('sends retry-after with a 429, which the SDK obeys', async () => {
    const { server } = await start();
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 1, logLevel: 'off' });
    server.script([{ kind: 'status', status: 429, retryAfterSeconds: 0.05 }]);
    const message = await client.messages.create(checkpointRequest());
    expect(message.stop_reason).toBe('tool_use');
    expect(server.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it('hangs until the client gives up, and sees the connection closed', async () => {
    const { server, client } = await start();
    server.setDefault({ kind: 'hang' });
    await expect(client.messages.create(checkpointRequest(), { timeout: 150 })).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
    await server.waitFor(() => server.requests[0]?.clientClosed === true);
  });

  it('close() ends hanging requests at once', async () => {
    const { server, client } = await start();
    server.setDefault({ kind: 'hang' });
    const pending = client.messages.create(checkpointRequest(), { timeout: 10_000 }).catch((e: unknown) => e);
    await server.waitFor(() => server.requests.length === 1);
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it.each([
    [{ kind: 'cut-stream', afterEvents: 4 } as const, /terminated|Connection error/],
    [{ kind: 'malformed-json' } as const, /JSON/],
    [{ kind: 'malformed-json', in: 'tool-input' } as const, /JSON/],
  ])('breaks the stream on %j', async (fault, pattern) => {
    const { server, client } = await start();
    server.setDefault(fault);
    await expect(client.messages.stream(checkpointRequest()).finalMessage()).rejects.toThrow(pattern);
  });

  it('breaks a plain JSON body on malformed-json and cut-stream', async () => {
    const { server, client } = await start();
    server.script([{ kind: 'malformed-json' }, { kind: 'cut-stream', afterEvents: 0 }]);
    await expect(client.messages.create(checkpointRequest())).rejects.toThrow(/JSON|terminated/);
    await expect(client.messages.create(checkpointRequest())).rejects.toThrow();
  });

  it('answers max_tokens with a cut tool input, a bad tool input, and JSON text fenced or plain', async () => {
    const { server, client } = await start();
    server.script([
      { kind: 'max-tokens' },
      { kind: 'bad-tool-input' },
      { kind: 'plain-json-text', fenced: true },
      { kind: 'plain-json-text' },
    ]);
    const cut = await client.messages.stream(checkpointRequest()).finalMessage();
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.usage.output_tokens).toBe(1_000);
    const bad = await client.messages.create(checkpointRequest());
    expect(bad.content[0]).toMatchObject({ type: 'tool_use', input: { completed: 'everything' } });
    const fenced = await client.messages.create(checkpointRequest());
    expect((fenced.content[0] as { text: string }).text).toMatch(/```json\n\{[\s\S]*\}\n```/);
    const plain = await client.messages.create(checkpointRequest());
    expect(JSON.parse((plain.content[0] as { text: string }).text)).toHaveProperty('completed');
  });

  it('refuses a wrong key with 401 and an unknown path with 404', async () => {
    const { server } = await start({ apiKey: 'right' });
    const wrong = new Anthropic({ apiKey: 'wrong', baseURL: server.url, maxRetries: 0, logLevel: 'off' });
    await expect(wrong.messages.create(checkpointRequest())).rejects.toBeInstanceOf(AuthenticationError);
    await expect(wrong.models.retrieve('x')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('summaryFromPrompt', () => {
  it('is deterministic and keeps within the word budget by dropping the oldest completed items', () => {
    const prompt = buildCheckpointPrompt({
      checkpoint: {
        completed: Array.from({ length: 40 }, (_, i) => `old item ${i} with several words in it`),
        inProgress: ['x'],
        pending: [],
        decisions: [],
        blockers: [],
      },
      messages: MESSAGES,
      budgetTokens: 100,
    }).messages[0].content;
    const a = summaryFromPrompt(prompt);
    expect(summaryFromPrompt(prompt)).toEqual(a);
    const words = Object.values(a)
      .flat()
      .reduce((s, item) => s + item.split(/\s+/).length + 1, 0);
    expect(words).toBeLessThanOrEqual(70);
    expect(a.completed.at(-1)).toBe('message 2 (user): README.md');
    expect(a.completed).not.toContain('old item 0 with several words in it');
  });
});

describe('the simulated prompt cache', () => {
  const system = (text: string) => [
    { type: 'text' as const, text, cache_control: { type: 'ephemeral' as const } },
  ];
  const long = 'Keep every acknowledged message durable. '.repeat(40);

  it('records breakpoints with their prefixes, reads a prefix seen before, and writes the rest', async () => {
    const { server, client } = await start({ minCacheableTokens: 100 });
    const ask = (sys: string, text: string) =>
      client.messages.create({
        model: 'claude-test-1',
        max_tokens: 50,
        system: system(sys),
        messages: [{ role: 'user', content: [{ type: 'text', text, cache_control: { type: 'ephemeral' } }] }],
      });
    const first = await ask(long, 'First question');
    const second = await ask(long, 'Second question');
    const changed = await ask(`${long} And one more rule.`, 'Second question');
    const [a, b, c] = server.requests;
    expect(a!.breakpoints.map((p) => p.at)).toEqual(['system[0]', 'messages[0].content[0]']);
    expect(b!.breakpoints[0]!.prefix).toBe(a!.breakpoints[0]!.prefix);
    expect(b!.breakpoints[1]!.prefix).not.toBe(a!.breakpoints[1]!.prefix);
    // The first request writes its whole prefix; the second reads the system prompt and writes its
    // message; a changed system prompt reads nothing.
    expect(first.usage).toMatchObject({
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: a!.inputTokens,
    });
    expect(second.usage.cache_read_input_tokens).toBe(b!.breakpoints[0]!.tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(b!.inputTokens - b!.breakpoints[0]!.tokens);
    expect(changed.usage.cache_read_input_tokens).toBe(0);
    expect(c!.cache.creation).toBe(c!.inputTokens);
    for (const r of [first, second, changed])
      expect(
        r.usage.input_tokens + r.usage.cache_read_input_tokens! + r.usage.cache_creation_input_tokens!,
      ).toBe(server.requests[[first, second, changed].indexOf(r)]!.inputTokens);
  });

  it('caches nothing under the minimum length, and nothing without breakpoints', async () => {
    const { server, client } = await start({ minCacheableTokens: 100_000 });
    const reply = await client.messages.create({
      model: 'claude-test-1',
      max_tokens: 50,
      system: system(long),
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(server.requests[0]!.breakpoints).toHaveLength(1);
  });

  it('replies with scripted content, streamed block by block as the API streams it', async () => {
    const { server, client } = await start();
    const content = [
      { type: 'thinking', thinking: 'Look it up.', signature: 'sig_1' },
      { type: 'redacted_thinking', data: 'EmwKAhgB' },
      {
        type: 'server_tool_use',
        id: 'srvtoolu_1',
        name: 'web_search',
        input: { query: 'x' },
        caller: { type: 'direct' },
      },
      {
        type: 'text',
        text: 'Found it.',
        citations: [{ type: 'char_location', cited_text: 'it', document_index: 0 }],
      },
    ];
    server.replyWith(content);
    const streamed = await client.messages
      .stream({ model: 'claude-test-1', max_tokens: 50, messages: [{ role: 'user', content: 'Search' }] })
      .finalMessage();
    expect(streamed.content).toEqual(content);
    server.replyWith(content, 'pause_turn');
    const plain = await client.messages.create({
      model: 'claude-test-1',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Again' }],
    });
    expect(plain.content).toEqual(content);
    expect(plain.stop_reason).toBe('pause_turn');
  });
});
