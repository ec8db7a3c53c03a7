/**
 * Requests and conversation turns through the runtime, against our Messages API server with the
 * real SDK.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Tiktoken } from 'js-tiktoken/lite';
import r50kRanks from 'js-tiktoken/ranks/r50k_base';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { assertValidMessagesList } from '../../src/request/messages-list.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { startMessagesApiServer, type MessagesApiServer } from '../support/messages-api-server.js';

const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};
const MODEL = 'claude-test-1';
let server: MessagesApiServer;
let client: Anthropic;

beforeAll(async () => {
  server = await startMessagesApiServer();
  client = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
});
afterAll(async () => server.close());

const turn = (i: number, words = 80): MessageInput[] => [
  {
    role: 'user',
    content: `Step ${i}: please look at src/module-${i}.ts. ${'context words here '.repeat(words / 4)}`,
  },
  {
    role: 'assistant',
    content: [
      { type: 'tool_use', id: `toolu_${i}`, name: 'Read', input: { file_path: `src/module-${i}.ts` } },
    ],
  },
  {
    role: 'user',
    content: [
      {
        type: 'tool_result',
        tool_use_id: `toolu_${i}`,
        content: `export const value${i} = ${i};\n`.repeat(words / 4),
      },
    ],
  },
  { role: 'assistant', content: `Read src/module-${i}.ts; it exports value${i}. Decided: keep it.` },
];

describe('buildRequest and previewRequest', () => {
  it('builds both forms within the limit; the messages form is a valid Messages API list', async () => {
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      client,
      model: MODEL,
      limits: { maxTokens: 20_000 },
    });
    const { id } = await runtime.createSession(KEY, {
      context: { featureName: 'Export', taskTitle: 'CSV exporter' },
    });
    for (let i = 0; i < 5; i++) for (const m of turn(i)) await runtime.addMessage(id, m);
    const flat = await runtime.buildRequest(id, 'Continue');
    expect(flat.systemPrompt).toContain('Export');
    expect(flat.systemPrompt).toContain('src/module-4.ts');
    expect(flat.messages).toEqual([{ role: 'user', content: 'Continue' }]);
    const list = await runtime.buildRequest(id, 'Continue', { format: 'messages' });
    assertValidMessagesList(list.messages);
    expect(list.messages).toHaveLength(21);
    expect(list.totalTokens).toBeLessThanOrEqual(20_000);
    expect(list.breakdown.total).toBe(list.totalTokens);
    // The SDK accepts it as it is.
    const counted = await client.messages.countTokens({
      model: MODEL,
      system: list.systemPrompt,
      messages: list.messages as Anthropic.MessageParam[],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    await runtime.close();
  });

  it('previewRequest changes nothing, even past the threshold', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits: { maxTokens: 3_000 },
      compaction: { retryBaseMs: 60_000 },
    });
    const { id } = await runtime.createSession(KEY);
    (runtime.compactor as ScriptedCompactor).behaviour = 'throw';
    for (let i = 0; i < 12; i++) for (const m of turn(i)) await runtime.addMessage(id, m);
    const before = await snapshotDir(path.join(root, '.dagent'));
    const preview = await runtime.previewRequest(id, 'next');
    expect(preview.compacted).toBe(false);
    expect(Object.keys(preview.breakdown).sort()).toEqual([
      'agentDescription',
      'checkpoint',
      'context',
      'messages',
      'replyReserve',
      'total',
      'userPrompt',
    ]);
    expect(preview.totalTokens).toBeGreaterThan(Math.floor(3_000 * 0.9)); // past the threshold, yet nothing ran
    expect(await snapshotDir(path.join(root, '.dagent'))).toEqual(before);
    await runtime.close();
  });

  it(
    'past the threshold it compacts first; if compaction is ' +
      'impossible it leaves old messages out of that request only',
    async () => {
      const root = await tempRoot();
      const compactor = new ScriptedCompactor();
      compactor.behaviour = 'throw';
      const runtime = await createSessionRuntime({
        root,
        compactor,
        limits: { maxTokens: 3_000 },
        compaction: { retryBaseMs: 60_000 },
      });
      const { id } = await runtime.createSession(KEY);
      for (let i = 0; i < 12; i++) for (const m of turn(i)) await runtime.addMessage(id, m);
      const forced = await runtime.buildRequest(id, 'next', { format: 'messages' });
      expect(forced.compactionError?.code).toBe('COMPACTOR_UNAVAILABLE');
      expect(forced.omittedMessages).toBeGreaterThan(0);
      expect(forced.fits).toBe(true);
      expect(forced.totalTokens).toBeLessThanOrEqual(3_000);
      assertValidMessagesList(forced.messages);
      expect(await runtime.getHistory(id)).toHaveLength(48); // nothing left out of disk
      compactor.behaviour = 'ok';
      const compacted = await runtime.buildRequest(id, 'next', { format: 'messages' });
      expect(compacted.compacted).toBe(true);
      expect(compacted.compactionError).toBeNull();
      expect(compacted.systemPrompt).toContain('## Checkpoint');
      expect(compacted.totalTokens).toBeLessThan(Math.floor(3_000 * 0.9));
      await runtime.close();
    },
  );

  it('says REQUEST_TOO_LARGE when the fixed parts alone pass the limit', async () => {
    // Such a context is refused now (fixed-parts.test.ts); a session stored under larger limits has one.
    const root = await tempRoot();
    const before = await createSessionRuntime({ root });
    const { id } = await before.createSession(KEY, { context: { projectNotes: 'word '.repeat(5_000) } });
    await before.close();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 3_000 } });
    await expect(runtime.buildRequest(id, 'hello')).rejects.toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    await expect(runtime.buildRequest(id, 42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    await runtime.close();
  });
});

describe('send: a conversation turn with Claude', () => {
  it('appends the user message, streams the call, appends and returns the reply with its usage', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), client, model: MODEL });
    const { id } = await runtime.createSession(KEY);
    const before = server.requests.length;
    const result = await runtime.send(id, 'Please summarise the plan');
    const sent = server.requests.slice(before).find((r) => r.path === '/v1/messages');
    expect(sent?.stream).toBe(true);
    expect((sent?.body as { model: string }).model).toBe(MODEL);
    expect(result.message.role).toBe('assistant');
    expect(result.usage.inputTokens).toBe(sent?.inputTokens);
    expect(result.message.metadata).toMatchObject({
      model: MODEL,
      usage: { inputTokens: sent?.inputTokens },
    });
    const messages = await runtime.getMessages(id);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[0]!.content).toBe('Please summarise the plan');
    await runtime.close();
  });

  it('compacts before the call when the turn would pass the threshold', async () => {
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      client,
      model: MODEL,
      limits: { maxTokens: 4_000 },
      compaction: { retryBaseMs: 60_000 },
    });
    const events: string[] = [];
    runtime.subscribe((e: SessionEvent) => {
      if (e.type === 'session.compaction.completed') events.push('compacted');
    });
    const { id } = await runtime.createSession(KEY);
    // Fill to just under the threshold; the turn's user message takes it past.
    for (let i = 0; i < 10; i++) for (const m of turn(i)) await runtime.addMessage(id, m);
    const size = await runtime.estimateSize(id);
    expect(size.needsCompaction).toBe(false);
    const compactionsBefore = events.length;
    // 'detail ' is one token: the user message alone takes the request 200 tokens past the threshold.
    const result = await runtime.send(
      id,
      `One more question. ${'detail '.repeat(size.threshold - size.total + 200)}`,
    );
    expect(events.length).toBeGreaterThan(compactionsBefore);
    expect(result.request.totalTokens).toBeLessThanOrEqual(4_000);
    const history = await runtime.getHistory(id);
    expect(history).toHaveLength(42);
    await runtime.close();
  });

  it('a model error keeps the user message and says what happened', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), client, model: MODEL });
    const { id } = await runtime.createSession(KEY);
    server.script([{ kind: 'status', status: 529 }]);
    await expect(runtime.send(id, 'hello')).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual(['hello']);
    await runtime.close();
  });

  it('a 409 or 408 once the SDK gave up is the model unavailable (retry later), as for the compactor', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), client, model: MODEL });
    const { id } = await runtime.createSession(KEY);
    for (const status of [409, 408]) {
      server.script([{ kind: 'status', status }]);
      await expect(runtime.send(id, `hello ${status}`)).rejects.toMatchObject({
        code: 'MODEL_UNAVAILABLE',
        retryable: true,
      });
    }
    server.script([{ kind: 'status', status: 401 }]);
    await expect(runtime.send(id, 'hello 401')).rejects.toMatchObject({ code: 'MODEL_FAILED' });
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual([
      'hello 409',
      'hello 408',
      'hello 401',
    ]);
    await runtime.close();
  });

  it('without a client or key, says how to configure one', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const { id } = await runtime.createSession(KEY);
    await expect(runtime.send(id, 'hello')).rejects.toThrow(/ANTHROPIC_API_KEY/);
    await runtime.close();
  });
});

describe('token counts that learn', () => {
  it(
    'after a few turns the corrected estimate is within 5% of the ' +
      'server count (@anthropic-ai/tokenizer) on requests it has not seen',
    async () => {
      const runtime = await createSessionRuntime({
        root: await tempRoot(),
        client,
        model: MODEL,
        estimator: createTokenEstimator(),
      });
      const { id } = await runtime.createSession(KEY, {
        context: { featureName: 'Calibration', featureGoal: 'Learn the model count' },
      });
      const errorOf = async (sessionId: string) => {
        const request = await runtime.previewRequest(sessionId, undefined, { format: 'messages' });
        const estimate = request.totalTokens - request.breakdown.replyReserve;
        const counted = await client.messages.countTokens({
          model: MODEL,
          system: request.systemPrompt,
          messages: request.messages as Anthropic.MessageParam[],
        });
        return Math.abs(estimate - counted.input_tokens) / counted.input_tokens;
      };
      // Unseen requests: other sessions with other content.
      const unseen: string[] = [];
      for (let s = 0; s < 3; s++) {
        const other = await runtime.createSession({ ...KEY, taskId: `unseen-${s}` });
        for (let i = 0; i < 3; i++)
          for (const m of turn(100 * (s + 1) + i, 120)) await runtime.addMessage(other.id, m);
        unseen.push(other.id);
      }
      const before = await Promise.all(unseen.map(errorOf));
      for (let i = 0; i < 6; i++) {
        for (const m of turn(i, 60 + 20 * i)) await runtime.addMessage(id, m);
        await runtime.send(id, `Turn ${i}: what next?`);
      }
      const state = runtime.calibration.state(MODEL);
      expect(state.samples).toBe(6);
      const after = await Promise.all(unseen.map(errorOf));
      console.log(
        `calibration (@anthropic-ai/tokenizer server): factor ${state.factor.toFixed(3)}; ` +
          `error on unseen requests before ${before.map((e) => (e * 100).toFixed(1)).join('%, ')}%, ` +
          `after ${after.map((e) => (e * 100).toFixed(1)).join('%, ')}%`,
      );
      for (const e of after) expect(e).toBeLessThan(0.05);
      expect(Math.max(...after)).toBeLessThan(Math.max(...before));
      // The sessions' thresholds use the corrected estimate.
      const size = await runtime.estimateSize(unseen[0]!);
      const raw =
        size.breakdown.agentDescription +
        size.breakdown.context +
        size.breakdown.checkpoint +
        size.breakdown.messages;
      expect(size.total).toBe(Math.ceil(raw * state.factor) + size.breakdown.replyReserve);
      await runtime.close();
    },
  );

  it('learns a large difference too: a server counting with the GPT-2 tokenizer (r50k_base)', async () => {
    // r50k_base spends a token per space of indentation: on code it counts far more than cl100k.
    const r50k = new Tiktoken(r50kRanks);
    const gpt2 = await startMessagesApiServer({ countTokens: (text) => r50k.encode(text, 'all').length });
    const gpt2Client = new Anthropic({ apiKey: 'test', baseURL: gpt2.url, maxRetries: 0 });
    try {
      const runtime = await createSessionRuntime({
        root: await tempRoot(),
        client: gpt2Client,
        model: MODEL,
      });
      const code = (i: number) =>
        `function step${i}() {\n${'    if (value) {\n      return value + 1;\n    }\n'.repeat(20)}}\n`;
      const errorOf = async (sessionId: string) => {
        const request = await runtime.previewRequest(sessionId, undefined, { format: 'messages' });
        const estimate = request.totalTokens - request.breakdown.replyReserve;
        const counted = await gpt2Client.messages.countTokens({
          model: MODEL,
          system: request.systemPrompt,
          messages: request.messages as Anthropic.MessageParam[],
        });
        return Math.abs(estimate - counted.input_tokens) / counted.input_tokens;
      };
      const unseen = await runtime.createSession({ ...KEY, taskId: 'unseen' });
      for (let i = 0; i < 4; i++) {
        await runtime.addMessage(unseen.id, { role: 'user', content: `Review this:\n${code(100 + i)}` });
        await runtime.addMessage(unseen.id, { role: 'assistant', content: `Looks fine. ${code(200 + i)}` });
      }
      const before = await errorOf(unseen.id);
      const { id } = await runtime.createSession(KEY);
      for (let i = 0; i < 6; i++) await runtime.send(id, `Please check:\n${code(i)}`);
      const after = await errorOf(unseen.id);
      console.log(
        `calibration (GPT-2 counting server): ` +
          `factor ${runtime.calibration.factor(MODEL).toFixed(3)}; error on an unseen ` +
          `request before ${(before * 100).toFixed(1)}%, after ${(after * 100).toFixed(1)}%`,
      );
      expect(before).toBeGreaterThan(0.15);
      expect(after).toBeLessThan(0.05);
      await runtime.close();
    } finally {
      await gpt2.close();
    }
  });

  it('calibrate() learns from count_tokens on demand', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), client, model: MODEL });
    const { id } = await runtime.createSession(KEY);
    for (const m of turn(1, 200)) await runtime.addMessage(id, m);
    const result = await runtime.calibrate(id);
    expect(result.samples).toBe(1);
    expect(result.counted).toBeGreaterThan(0);
    expect(result.factor).toBeCloseTo(result.counted / result.estimated, 2);
    await runtime.close();
  });
});
