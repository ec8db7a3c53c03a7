/**
 * Idempotent writes: `addMessage` and `send` with an `idempotencyKey` store a message once,
 * whatever the retries: after a restart, after the message was compacted into the archive, and
 * when the retries race the first call. `send` is retried after a 529 with the real SDK against
 * our Messages API server.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { Message, MessageInput, SessionKey } from '../../src/core/types.js';
import {
  createSessionRuntime,
  type SessionRuntime,
  type SessionRuntimeOptions,
} from '../../src/runtime/create-session-runtime.js';
import { IDEMPOTENCY_WINDOW_SEGMENTS } from '../../src/runtime/idempotency.js';
import { tempRoot } from '../helpers/temp-root.js';
import { startMessagesApiServer, type MessagesApiServer } from '../support/messages-api-server.js';

const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isSessionError(error)).toBe(true);
  return (error as { code: string }).code;
}

const text = (i: number) =>
  `Step ${i}: edited src/module-${i}.ts and ran npm test. ${'lorem ipsum '.repeat(40)}`;

async function open(root: string, options: Omit<SessionRuntimeOptions, 'root'> = {}) {
  const runtime = await createSessionRuntime({ ...options, root });
  const { id } = await runtime.createSession(KEY);
  return { runtime, id };
}

/** How many stored messages (archive + live) carry each key. */
async function keyCounts(runtime: SessionRuntime, id: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const m of await runtime.getHistory(id))
    if (m.idempotencyKey) counts.set(m.idempotencyKey, (counts.get(m.idempotencyKey) ?? 0) + 1);
  return counts;
}

describe('addMessage with an idempotencyKey', () => {
  it('a retry returns the stored message and writes nothing, in this process and after a restart', async () => {
    const root = await tempRoot();
    let { runtime, id } = await open(root);
    const input: MessageInput = { role: 'user', content: 'Run the tests', idempotencyKey: 'turn-1' };
    const first = await runtime.addMessage(id, input);
    expect(first.idempotencyKey).toBe('turn-1');
    const retry = await runtime.addMessage(id, { ...input });
    expect(retry).toEqual(first);
    await runtime.close();
    ({ runtime, id } = await open(root));
    expect(await runtime.addMessage(id, { ...input })).toEqual(first);
    expect(await runtime.getHistory(id)).toHaveLength(1);
    await runtime.close();
  });

  it(
    'finds keys of messages compacted into the archive, ' +
      'after a restart too, within its window of segments',
    async () => {
      const root = await tempRoot();
      let { runtime, id } = await open(root, { durable: false });
      const firsts: Message[] = [];
      // One keyed message per compaction: after the loop, the oldest is WINDOW segments back.
      for (let c = 0; c < IDEMPOTENCY_WINDOW_SEGMENTS; c++) {
        firsts.push(
          await runtime.addMessage(id, { role: 'user', content: text(c), idempotencyKey: `k${c}` }),
        );
        await runtime.addMessage(id, { role: 'assistant', content: text(c + 100) });
        await runtime.compact(id, { keepRecentTokens: 0 });
      }
      expect((await runtime.getSession(id)).checkpointVersion).toBe(IDEMPOTENCY_WINDOW_SEGMENTS);
      expect(await runtime.getMessages(id)).toEqual([]);
      for (let c = 0; c < firsts.length; c++)
        expect(
          await runtime.addMessage(id, { role: 'user', content: text(c), idempotencyKey: `k${c}` }),
        ).toEqual(firsts[c]);
      await runtime.close();
      ({ runtime, id } = await open(root, { durable: false }));
      for (let c = 0; c < firsts.length; c++)
        expect(
          await runtime.addMessage(id, { role: 'user', content: text(c), idempotencyKey: `k${c}` }),
        ).toEqual(firsts[c]);
      expect([...(await keyCounts(runtime, id)).values()].every((n) => n === 1)).toBe(true);
      expect(await runtime.getHistory(id)).toHaveLength(2 * IDEMPOTENCY_WINDOW_SEGMENTS);
      await runtime.close();
    },
  );

  it('the same key with another message is IDEMPOTENCY_CONFLICT and writes nothing', async () => {
    const { runtime, id } = await open(await tempRoot());
    await runtime.addMessage(id, {
      role: 'user',
      content: 'Run the tests',
      metadata: { a: 1 },
      idempotencyKey: 'x',
    });
    for (const other of [
      { role: 'user', content: 'Run the linter' },
      { role: 'assistant', content: 'Run the tests' },
      { role: 'user', content: 'Run the tests', metadata: { a: 2 } },
      { role: 'user', content: 'Run the tests' },
      { role: 'user', content: 'Run the tests', metadata: { a: 1 }, timestamp: '2020-01-01T00:00:00.000Z' },
    ] as MessageInput[]) {
      const error = await runtime.addMessage(id, { ...other, idempotencyKey: 'x' }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('IDEMPOTENCY_CONFLICT');
      expect((error as Error).message).toMatch(/use a new key for a new message/i);
      expect((error as { details?: Record<string, unknown> }).details).toMatchObject({
        idempotencyKey: 'x',
        seq: 0,
      });
    }
    expect(await runtime.getHistory(id)).toHaveLength(1);
    await runtime.close();
  });

  it(
    'concurrent calls with one key write once; ' +
      'they all get the stored message; other appends keep their order',
    async () => {
      const { runtime, id } = await open(await tempRoot());
      const calls = [
        runtime.addMessage(id, { role: 'user', content: 'before' }),
        ...Array.from({ length: 8 }, () =>
          runtime.addMessage(id, { role: 'user', content: 'the keyed one', idempotencyKey: 'same' }),
        ),
        runtime.addMessage(id, { role: 'assistant', content: 'after' }),
      ];
      const results = await Promise.all(calls);
      const keyed = results.slice(1, -1);
      expect(new Set(keyed.map((m) => m.id)).size).toBe(1);
      const history = await runtime.getHistory(id);
      expect(history.map((m) => m.content)).toEqual(['before', 'the keyed one', 'after']);
      await runtime.close();
    },
  );

  it('refuses a key that is not a short string of letters, digits, ".", "_", ":" or "-"', async () => {
    const { runtime, id } = await open(await tempRoot());
    for (const key of ['', 'a/b', 'has space', 'x'.repeat(129), 42, null])
      expect(
        await codeOf(
          runtime.addMessage(id, { role: 'user', content: 'hi', idempotencyKey: key } as MessageInput),
        ),
      ).toBe('INVALID_MESSAGE');
    expect(await runtime.getHistory(id)).toHaveLength(0);
    await runtime.close();
  });
});

describe('send with an idempotencyKey, with the real SDK against our Messages API server', () => {
  let server: MessagesApiServer;
  let client: Anthropic;
  beforeAll(async () => {
    server = await startMessagesApiServer();
    client = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
  });
  afterAll(async () => server.close());

  it('a retry after a 529 stores the user message once, then the reply', async () => {
    const { runtime, id } = await open(await tempRoot(), { client, model: 'claude-test-1' });
    server.script([{ kind: 'status', status: 529 }]);
    expect(await codeOf(runtime.send(id, 'Summarise the plan', { idempotencyKey: 'turn-7' }))).toBe(
      'MODEL_UNAVAILABLE',
    );
    const result = await runtime.send(id, 'Summarise the plan', { idempotencyKey: 'turn-7' });
    expect(result.replayed).toBe(false);
    const history = await runtime.getHistory(id);
    expect(history.map((m) => [m.role, m.idempotencyKey])).toEqual([
      ['user', 'turn-7'],
      ['assistant', 'turn-7/reply'],
    ]);
    expect(history[1]).toEqual(result.message);
    await runtime.close();
  });

  it(
    'a retry after the reply was stored returns it without calling the model; ' +
      'another message under the key is a conflict',
    async () => {
      const { runtime, id } = await open(await tempRoot(), { client, model: 'claude-test-1' });
      const first = await runtime.send(id, 'What is next?', { idempotencyKey: 'turn-8' });
      const calls = server.requests.length;
      const again = await runtime.send(id, 'What is next?', { idempotencyKey: 'turn-8' });
      expect(server.requests.length).toBe(calls);
      expect(again.replayed).toBe(true);
      expect(again.message).toEqual(first.message);
      expect(again.usage).toEqual(first.usage);
      expect(again.request).toEqual(first.request);
      expect(await codeOf(runtime.send(id, 'Something else', { idempotencyKey: 'turn-8' }))).toBe(
        'IDEMPOTENCY_CONFLICT',
      );
      expect(await codeOf(runtime.send(id, 'x', { idempotencyKey: 'bad key' }))).toBe('INVALID_ARGUMENT');
      expect(await runtime.getHistory(id)).toHaveLength(2);
      await runtime.close();
    },
  );

  it('concurrent sends with one key call the model once', async () => {
    const { runtime, id } = await open(await tempRoot(), { client, model: 'claude-test-1' });
    const calls = server.requests.length;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runtime.send(id, 'Go on', { idempotencyKey: 'turn-9' })),
    );
    expect(server.requests.length).toBe(calls + 1);
    expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await runtime.getHistory(id)).toHaveLength(2);
    await runtime.close();
  });
});
