/**
 * AnthropicCompactor with the real SDK against the test Messages API server: success, streaming
 * progress, every fault, and how each one is reported.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import {
  AnthropicCompactor,
  DEFAULT_ANTHROPIC_MODEL,
  hasAnthropicApiKey,
  type AnthropicCompactorOptions,
} from '../../src/compaction/anthropic-compactor.js';
import type { CompactionInput, CompactionProgress } from '../../src/compaction/compactor.js';
import { foldInChunks } from '../../src/compaction/fold-in-chunks.js';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { storedMessage } from '../helpers/fixtures.js';
import { startTestMessagesApi } from '../helpers/messages-api.js';
import { type Fault, type MessagesApiServerOptions } from '../support/messages-api-server.js';

const estimator = createTokenEstimator();
const msg = (seq: number, role: Message['role'], content: string): Message =>
  storedMessage(seq, role, content, estimator.estimate(content) + 4);
const MESSAGES = [
  msg(0, 'user', 'Please fix src/parser.ts'),
  msg(1, 'assistant', 'Ran npm test: 3 passed'),
  msg(2, 'user', 'Now update docs/api.md'),
];
const INPUT: CompactionInput = { checkpoint: null, messages: MESSAGES, budgetTokens: 1_000 };
const EXPECTED = {
  completed: [
    'message 0 (user): src/parser.ts',
    'message 1 (assistant): `npm test: 3 passed`',
    'message 2 (user): docs/api.md',
  ],
  inProgress: ['continuing after message 2'],
  pending: [],
  decisions: [],
  blockers: [],
};

async function setup(
  options: Partial<AnthropicCompactorOptions> = {},
  serverOptions: MessagesApiServerOptions = {},
) {
  const server = await startTestMessagesApi(serverOptions);
  const compactor = new AnthropicCompactor({
    apiKey: 'test',
    baseURL: server.url,
    maxRetries: 0,
    timeoutMs: 5_000,
    estimator,
    clientOptions: { logLevel: 'off' },
    ...options,
  });
  return { server, compactor };
}

async function failure(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isSessionError(error)).toBe(true);
  return error as SessionError;
}

const signal = () => new AbortController().signal;

describe('AnthropicCompactor', () => {
  it('compacts through a forced record_checkpoint call, streamed, and records the usage', async () => {
    const { server, compactor } = await setup({ model: 'claude-test-model' });
    expect(compactor.name).toBe('anthropic:claude-test-model');
    const summary = await compactor.compact(INPUT, { signal: signal() });
    expect(summary).toEqual(EXPECTED);
    const [request] = server.requests;
    expect(request?.stream).toBe(true);
    expect(request?.body).toMatchObject({
      model: 'claude-test-model',
      max_tokens: 4_096,
      tool_choice: { type: 'tool', name: 'record_checkpoint' },
      tools: [
        {
          name: 'record_checkpoint',
          input_schema: {
            type: 'object',
            required: ['goals', 'inProgress', 'pending', 'decisions'],
          },
        },
      ],
    });
    expect(compactor.lastUsage).toMatchObject({
      model: 'claude-test-model',
      inputTokens: request?.inputTokens,
      stopReason: 'tool_use',
    });
    expect(compactor.lastUsage?.outputTokens).toBeGreaterThan(10);
    expect(compactor.lastUsage?.estimatedInputTokens).toBeGreaterThan(100);
  });

  it('reports progress in output tokens while the answer streams', async () => {
    const { compactor } = await setup({}, { chunkChars: 8 });
    const progress: CompactionProgress[] = [];
    await compactor.compact(
      {
        ...INPUT,
        checkpoint: {
          ...EXPECTED,
          decisions: Array.from({ length: 20 }, (_, i) => `decision number ${i} about the storage format`),
        },
      },
      { signal: signal(), onProgress: (p) => progress.push(p) },
    );
    const tokens = progress.map((p) => p.outputTokens ?? 0);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.at(-1)).toBe(compactor.lastUsage?.outputTokens);
    expect(tokens.slice(0, -1)).toEqual([...tokens.slice(0, -1)].sort((a, b) => a - b));
  });

  it('merges with the existing checkpoint and keeps the result within the budget', async () => {
    const { compactor } = await setup();
    const checkpoint = {
      ...EXPECTED,
      completed: Array.from(
        { length: 200 },
        (_, i) => `finished step ${i} of the migration of the storage layer`,
      ),
    };
    const summary = await compactor.compact(
      { checkpoint, messages: MESSAGES, budgetTokens: 300 },
      { signal: signal() },
    );
    expect(estimator.estimateCheckpoint(summary)).toBeLessThanOrEqual(300);
    expect(summary.completed.at(-1)).toBe('message 2 (user): docs/api.md');
  });

  it('lets the SDK retry a 429 after its retry-after, then succeeds', async () => {
    const { server, compactor } = await setup({ maxRetries: 2 });
    server.script([{ kind: 'status', status: 429, retryAfterSeconds: 0.02 }]);
    expect(await compactor.compact(INPUT, { signal: signal() })).toEqual(EXPECTED);
    expect(server.requests.map((r) => r.answer)).toEqual(['status', 'ok']);
    expect(server.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it.each([
    [529, 'overloaded_error'],
    [500, 'api_error'],
  ])('reports %d beyond the retries as COMPACTOR_UNAVAILABLE, retryable', async (status, type) => {
    const { server, compactor } = await setup({ maxRetries: 1 });
    server.setDefault({ kind: 'status', status, retryAfterSeconds: 0.01 });
    const error = await failure(compactor.compact(INPUT, { signal: signal() }));
    expect(error.code).toBe('COMPACTOR_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`the API answered ${status} ${type}`);
    expect(error.message).toContain('the SDK retried once');
    expect(error.cause).toBeInstanceOf(Anthropic.APIError);
    expect(server.requests).toHaveLength(2);
  });

  it('times out a request that hangs past timeoutMs, and closes the connection', async () => {
    const { server, compactor } = await setup({ timeoutMs: 300 });
    server.setDefault({ kind: 'hang' });
    const error = await failure(compactor.compact(INPUT, { signal: signal() }));
    expect(error.code).toBe('COMPACTOR_TIMEOUT');
    expect(error.message).toMatch(/within 300 ms \(timeoutMs\)/);
    await server.waitFor(() => server.requests[0]?.clientClosed === true);
  });

  it('cancels the HTTP request when the signal aborts mid-request', async () => {
    const { server, compactor } = await setup();
    server.setDefault({ kind: 'hang' });
    const controller = new AbortController();
    const pending = failure(compactor.compact(INPUT, { signal: controller.signal }));
    await server.waitFor(() => server.requests.length === 1);
    controller.abort(new Error('session closed'));
    const error = await pending;
    expect(error.code).toBe('COMPACTION_CANCELLED');
    await server.waitFor(() => server.requests[0]?.clientClosed === true);
  });

  it('refuses to start when the signal is already aborted, without a request', async () => {
    const { server, compactor } = await setup();
    expect((await failure(compactor.compact(INPUT, { signal: AbortSignal.abort() }))).code).toBe(
      'COMPACTION_CANCELLED',
    );
    expect(server.requests).toHaveLength(0);
  });

  it.each<[string, Fault, string, RegExp]>([
    [
      'a stream cut in the middle',
      { kind: 'cut-stream', afterEvents: 5 },
      'COMPACTOR_UNAVAILABLE',
      /the answer stream was cut after \d+ events/,
    ],
    [
      'stop_reason max_tokens',
      { kind: 'max-tokens' },
      'COMPACTOR_MALFORMED',
      /cut at max_tokens .*raise maxTokens or lower the checkpoint budget/,
    ],
    ['a malformed JSON event', { kind: 'malformed-json' }, 'COMPACTOR_MALFORMED', /not valid JSON/],
    [
      'a malformed tool input',
      { kind: 'malformed-json', in: 'tool-input' },
      'COMPACTOR_MALFORMED',
      /not valid JSON/,
    ],
    [
      'a tool input that fails the schema',
      { kind: 'bad-tool-input' },
      'COMPACTOR_MALFORMED',
      new RegExp(
        String.raw`"inProgress\[0\]" must be a string, got a number; missing "decisions" .*; ` +
          String.raw`"completed" must be an array of strings, got a string`,
      ),
    ],
    [
      'prose',
      { kind: 'prose' },
      'COMPACTOR_MALFORMED',
      /neither a record_checkpoint call nor a JSON checkpoint/,
    ],
    [
      'a 401',
      { kind: 'status', status: 401 },
      'COMPACTOR_FAILED',
      /401 authentication_error .*check the API key/,
    ],
    ['a 404', { kind: 'status', status: 404 }, 'COMPACTOR_FAILED', /check the model id/],
  ])('reports %s', async (_, fault, code, pattern) => {
    const { server, compactor } = await setup();
    server.setDefault(fault);
    const error = await failure(compactor.compact(INPUT, { signal: signal() }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(pattern);
    expect(error.retryable).toBe(code !== 'COMPACTOR_FAILED');
  });

  it.each([false, true])('accepts a plain JSON answer (fenced: %s)', async (fenced) => {
    const { server, compactor } = await setup();
    server.setDefault({ kind: 'plain-json-text', fenced });
    expect(await compactor.compact(INPUT, { signal: signal() })).toEqual(EXPECTED);
  });

  it('recovers on the next call after a fault', async () => {
    const { server, compactor } = await setup();
    server.script([{ kind: 'status', status: 529 }, { kind: 'prose' }]);
    expect((await failure(compactor.compact(INPUT, { signal: signal() }))).code).toBe(
      'COMPACTOR_UNAVAILABLE',
    );
    expect((await failure(compactor.compact(INPUT, { signal: signal() }))).code).toBe('COMPACTOR_MALFORMED');
    expect(await compactor.compact(INPUT, { signal: signal() })).toEqual(EXPECTED);
  });

  it('is folded in chunks, oldest first, when its input budget is small', async () => {
    const { server, compactor } = await setup({ maxInputTokens: 2_000 });
    const messages = Array.from({ length: 40 }, (_, i) =>
      msg(i, 'assistant', `Edited src/module-${i}.ts. ${'details '.repeat(40)}`),
    );
    const { summary, calls } = await foldInChunks({
      compactor,
      estimator,
      summary: null,
      messages,
      budgetTokens: 200,
      signal: signal(),
    });
    expect(calls).toBeGreaterThan(3);
    expect(server.requests).toHaveLength(calls);
    expect(Math.max(...server.requests.map((r) => r.inputTokens))).toBeLessThanOrEqual(2_000);
    expect(summary.completed.at(-1)).toBe('message 39 (assistant): src/module-39.ts');
  });
});

describe('AnthropicCompactor construction', () => {
  it('needs a key: option, ANTHROPIC_API_KEY, or a client', () => {
    expect(() => new AnthropicCompactor({ env: {} })).toThrow(
      /set ANTHROPIC_API_KEY, or pass \{ apiKey \} or \{ client \}/,
    );
    expect(() => new AnthropicCompactor({ env: { ANTHROPIC_API_KEY: '  ' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(new AnthropicCompactor({ env: { ANTHROPIC_API_KEY: 'k' } }).name).toBe(
      `anthropic:${DEFAULT_ANTHROPIC_MODEL}`,
    );
    expect(new AnthropicCompactor({ env: {}, client: new Anthropic({ apiKey: 'k' }) }).model).toBe(
      DEFAULT_ANTHROPIC_MODEL,
    );
    expect(() => new AnthropicCompactor({ client: new Anthropic({ apiKey: 'k' }), apiKey: 'k' })).toThrow(
      /either \{ client \}/,
    );
  });

  it.each([
    [{ maxTokens: 0 }, /maxTokens must be a positive integer/],
    [{ timeoutMs: -1 }, /timeoutMs must be a positive integer/],
    [{ maxInputTokens: 500 }, /at least 2000/],
    [{ maxRetries: 1.5 }, /maxRetries must be an integer >= 0/],
    [{ model: '' }, /model must be a non-empty/],
  ])('refuses %j', (options, pattern) => {
    expect(() => new AnthropicCompactor({ apiKey: 'k', ...options })).toThrow(pattern);
  });

  it('keeps room under maxInputTokens for the prompt and the tokenizer difference', () => {
    expect(new AnthropicCompactor({ apiKey: 'k' }).maxInputTokens).toBe(119_000);
    expect(new AnthropicCompactor({ apiKey: 'k', maxInputTokens: 20_000 }).maxInputTokens).toBe(15_000);
  });

  it('hasAnthropicApiKey looks at ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN', () => {
    expect(hasAnthropicApiKey({})).toBe(false);
    expect(hasAnthropicApiKey({ ANTHROPIC_API_KEY: '' })).toBe(false);
    expect(hasAnthropicApiKey({ ANTHROPIC_API_KEY: 'sk-x' })).toBe(true);
    expect(hasAnthropicApiKey({ ANTHROPIC_AUTH_TOKEN: 'tok' })).toBe(true);
  });
});
