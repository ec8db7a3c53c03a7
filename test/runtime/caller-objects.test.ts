/**
 * The runtime never keeps a caller's objects, and never hands its own out: what comes in is
 * copied once (and frozen), compactors get frozen inputs, and what goes out is a copy. A caller,
 * a compactor or an event listener that edits an object afterwards changes nothing stored.
 */
import { describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type {
  AgentDescription,
  CheckpointSummary,
  Message,
  MessageInput,
  SessionContext,
  SessionKey,
  TextBlock,
} from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};
const HUGE = 'rewritten by the caller afterwards '.repeat(600); // about 3,600 tokens
const estimator = createTokenEstimator();

/** What a message looks like once stored, for comparison (no id, seq, timestamp, tokens). */
const stored = (m: Message) => ({ role: m.role, content: m.content, metadata: m.metadata });

function turn(i: number): MessageInput {
  return i % 2 === 0
    ? {
        role: 'user',
        content: [{ type: 'text', text: `Step ${i}: look at src/module-${i}.ts and run the tests.` }],
        metadata: { source: 'cli', tags: [`step-${i}`] },
      }
    : {
        role: 'assistant',
        content: [
          { type: 'text', text: `Reading src/module-${i}.ts.` },
          { type: 'tool_use', id: `toolu_${i}`, name: 'Read', input: { file_path: `src/module-${i}.ts` } },
        ],
      };
}

describe('objects given to the runtime', () => {
  it(
    'content and metadata changed after addMessage resolves change nothing: ' +
      'not in memory, not after a fold or a restart, not the request',
    async () => {
      const root = await tempRoot();
      // A tiny fold threshold: the in-memory chat is written to chat.json again and again.
      let runtime = await createSessionRuntime({ root, limits: { maxTokens: 20_000 }, foldMinBytes: 512 });
      const { id } = await runtime.createSession(KEY);
      const inputs: MessageInput[] = [];
      for (let i = 0; i < 10; i++) {
        inputs.push(turn(i));
        await runtime.addMessage(id, inputs[i]!);
      }
      const expected = structuredClone(inputs).map((m) => ({ ...m, metadata: m.metadata }));
      // The caller reuses its objects: every text becomes ~3,600 tokens, metadata changes too.
      for (const input of inputs) {
        for (const block of input.content as TextBlock[]) if (block.type === 'text') block.text = HUGE;
        if (input.metadata) (input.metadata.tags as string[]).push('edited');
      }
      await runtime.addMessage(id, { role: 'user', content: 'one more, to fold the chat again' });

      const live = (await runtime.getMessages(id)).slice(0, 10).map(stored);
      expect(live).toEqual(expected.map((m) => ({ role: m.role, content: m.content, metadata: m.metadata })));
      const request = await runtime.buildRequest(id, 'Continue');
      expect(request.systemPrompt).not.toContain('rewritten by the caller');
      // Counted afresh, the rendered request is within its limit (it passed 30k tokens before).
      expect(estimator.estimate(request.systemPrompt)).toBeLessThanOrEqual(20_000);
      await runtime.close();

      runtime = await createSessionRuntime({ root, limits: { maxTokens: 20_000 } });
      const history = (await runtime.getHistory(id)).slice(0, 10).map(stored);
      expect(history).toEqual(
        expected.map((m) => ({ role: m.role, content: m.content, metadata: m.metadata })),
      );
      await runtime.close();
    },
  );

  it(
    'context and agent descriptions are copied: createSession, ' +
      'setContext, setAgentDescription, the agents option',
    async () => {
      const root = await tempRoot();
      const description: AgentDescription = { role: 'Developer of the exporter', tools: ['Read'] };
      const runtime = await createSessionRuntime({ root, agents: { pm: { description } } });
      const context: SessionContext = { featureName: 'CSV export', dependencies: ['t0'] };
      const { id } = await runtime.createSession(KEY, { context });
      const pm = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'f1' });
      const before = await runtime.estimateSize(id);
      context.featureName = HUGE;
      context.dependencies!.push(HUGE);
      description.role = HUGE;
      expect(await runtime.getContext(id)).toEqual({ featureName: 'CSV export', dependencies: ['t0'] });
      expect((await runtime.getAgentDescription(pm.id))?.role).toBe('Developer of the exporter');
      expect((await runtime.buildRequest(pm.id, 'hi')).systemPrompt).not.toContain('rewritten');

      const next: SessionContext = { featureName: 'CSV export v2' };
      await runtime.setContext(id, next);
      const nextDescription: AgentDescription = { role: 'Developer, second take' };
      await runtime.setAgentDescription(id, nextDescription);
      const after = await runtime.estimateSize(id);
      next.featureName = HUGE;
      nextDescription.role = HUGE;
      expect(await runtime.getContext(id)).toEqual({ featureName: 'CSV export v2' });
      expect((await runtime.getAgentDescription(id))?.role).toBe('Developer, second take');
      expect((await runtime.estimateSize(id)).breakdown).toEqual(after.breakdown);
      expect((await runtime.buildRequest(id, 'hi')).systemPrompt).not.toContain('rewritten');
      expect(before.total).toBeGreaterThan(0);
      await runtime.close();
    },
  );

  it('a compactor that edits its input changes no message and no checkpoint', async () => {
    const edits: string[] = [];
    const inner = new OfflineCompactor();
    const editing: Compactor = {
      name: 'editing',
      maxInputTokens: 200_000,
      async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
        const attempt = (what: string, edit: () => void) => {
          try {
            edit();
            edits.push(what);
          } catch {
            // frozen: the edit is refused
          }
        };
        const first = input.messages[0] as { content: unknown; metadata?: Record<string, unknown> };
        attempt('content', () => (first.content = 'REWRITTEN BY THE COMPACTOR'));
        attempt('block', () => ((input.messages[1]!.content as TextBlock[])[0]!.text = 'REWRITTEN'));
        if (first.metadata) attempt('metadata', () => (first.metadata!.source = 'REWRITTEN'));
        if (input.checkpoint) attempt('checkpoint', () => input.checkpoint!.completed.push('REWRITTEN'));
        attempt('list', () => input.messages.splice(0, 1));
        return inner.compact(input, options);
      },
    };
    const root = await tempRoot();
    let runtime = await createSessionRuntime({ root, compactor: editing });
    const { id } = await runtime.createSession(KEY);
    const inputs = Array.from({ length: 12 }, (_, i) => turn(i));
    for (const input of inputs) await runtime.addMessage(id, input);
    await runtime.compact(id, { keepRecentTokens: 0 });
    await runtime.addMessage(id, { role: 'user', content: 'and a second compaction, with a checkpoint' });
    await runtime.compact(id, { keepRecentTokens: 0 });
    const expected = inputs.map((m) => ({ role: m.role, content: m.content, metadata: m.metadata }));
    expect(edits).toEqual([]);
    expect((await runtime.getHistory(id)).slice(0, 12).map(stored)).toEqual(expected);
    expect(JSON.stringify(await runtime.getCheckpoint(id))).not.toContain('REWRITTEN');
    await runtime.close();
    runtime = await createSessionRuntime({ root, compactor: editing });
    expect((await runtime.getHistory(id)).slice(0, 12).map(stored)).toEqual(expected);
    await runtime.close();
  });
});

describe('objects the runtime returns', () => {
  it(
    'are copies, or frozen (messages): editing them changes no limit, ' +
      'message, request or event of the session',
    async () => {
      const root = await tempRoot();
      const runtime = await createSessionRuntime({ root, limits: { maxTokens: 20_000 } });
      runtime.subscribe((event) => {
        if (event.type !== 'session.message.appended') return;
        try {
          (event.message as { content: unknown }).content = 'REWRITTEN BY A LISTENER';
        } catch {
          // frozen
        }
      });
      const info = await runtime.createSession(KEY);
      const { id } = info;
      for (let i = 0; i < 6; i++) await runtime.addMessage(id, turn(i));
      const expected = (await runtime.getMessages(id)).map(stored);

      info.limits.maxTokens = 1;
      info.key.featureId = 'other';
      const again = await runtime.getSession(id);
      again.limits.compactAt = 0.01;
      expect((await runtime.getSession(id)).limits.maxTokens).toBe(20_000);
      expect((await runtime.getSession(id)).limits.compactAt).toBe(0.9);
      expect((await runtime.getSession(id)).key.featureId).toBe('f1');
      expect((await runtime.estimateSize(id)).limit).toBe(20_000);
      expect((await runtime.listSessions())[0]!.limits.maxTokens).toBe(20_000);

      const request = await runtime.buildRequest(id, 'Continue', { format: 'messages' });
      for (const m of request.messages) {
        if (typeof m.content === 'string') continue;
        for (const block of m.content) {
          if (block.type === 'tool_use') (block.input as Record<string, unknown>).file_path = 'REWRITTEN';
          if (block.type === 'text') block.text = 'REWRITTEN';
        }
      }
      const preview = await runtime.previewRequest(id);
      preview.breakdown.total = -1;
      // Messages are not copied but frozen (shared by every read): editing one throws.
      const messages = await runtime.getMessages(id);
      expect(() => ((messages[0]!.content as TextBlock[])[0]!.text = 'REWRITTEN')).toThrow(TypeError);
      const added = await runtime.addMessage(id, { role: 'user', content: [{ type: 'text', text: 'last' }] });
      expect(() => ((added.content as TextBlock[])[0]!.text = 'REWRITTEN')).toThrow(TypeError);
      expect(() => ((added as { tokens: number }).tokens = 0)).toThrow(TypeError);
      const history = await runtime.getHistory(id);
      expect(() => (history[0]!.metadata = { changed: true })).toThrow(TypeError);
      history.pop(); // the array is the caller's
      expect(await runtime.getHistory(id)).toHaveLength(7);

      const now = (await runtime.getMessages(id)).map(stored);
      expect(now.slice(0, 6)).toEqual(expected);
      expect(now[6]!.content).toEqual([{ type: 'text', text: 'last' }]);
      expect(
        JSON.stringify(await runtime.buildRequest(id, 'Continue', { format: 'messages' })),
      ).not.toContain('REWRITTEN');
      await runtime.close();
    },
  );
});
