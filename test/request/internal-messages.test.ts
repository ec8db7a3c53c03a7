/**
 * Messages the host marks internal (`metadata.internal: true`, as DAGent did) are kept in history
 * and archived like any other, but a request neither sends nor counts them, in both formats; the
 * session's own figure (what decides compaction) agrees; the ledger and the compactor never read
 * them; getRecentMessages leaves them out unless asked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { CheckpointSummary, ContentBlock, MessageInput } from '../../src/core/types.js';
import { getRecentMessages } from '../../src/ipc/session-queries.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { DEV_TASK_KEY } from '../helpers/fixtures.js';
import { tempRoot } from '../helpers/temp-root.js';

/** A message of the conversation, or (internal) one the host keeps for itself. */
const messageArb = fc.record({
  internal: fc.boolean(),
  role: fc.constantFrom('user' as const, 'assistant' as const, 'system' as const),
  text: fc.array(fc.constantFrom('npm test', 'failed', 'src/a.ts', 'données', '🙂', 'ok'), {
    minLength: 1,
    maxLength: 40,
  }),
  tool: fc.boolean(),
});

let toolIds = 0;
type Generated = typeof messageArb extends fc.Arbitrary<infer T> ? T : never;

function inputsOf(generated: Generated[]): MessageInput[] {
  return generated.flatMap((g): MessageInput[] => {
    const text = `${g.internal ? 'INTERNAL ' : ''}${g.text.join(' ')}`;
    const metadata = g.internal ? { internal: true } : { kept: true };
    if (!g.tool || g.internal) return [{ role: g.role, content: text, metadata }];
    const id = `toolu_${toolIds++}`;
    const use: ContentBlock = { type: 'tool_use', id, name: 'Bash', input: { command: 'npm test' } };
    const result: ContentBlock = { type: 'tool_result', tool_use_id: id, content: text };
    return [
      { role: 'assistant', content: [use], metadata },
      { role: 'user', content: [result], metadata },
    ];
  });
}

/** A compactor that remembers what it was given. */
class RecordingCompactor implements Compactor {
  readonly name = 'recording';
  readonly maxInputTokens = 200_000;
  readonly seen: string[] = [];
  readonly #inner = new OfflineCompactor();
  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    this.seen.push(...input.messages.map((m) => JSON.stringify(m.content)));
    return this.#inner.compact(input, options);
  }
}

describe('internal messages', () => {
  it('change nothing a request sends or counts, in either format, nor the figure the session compacts by', async () => {
    let internalSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { minLength: 1, maxLength: 25 }), async (generated) => {
        const messages = inputsOf(generated);
        const open = async () => {
          const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false });
          const { id } = await runtime.createSession(DEV_TASK_KEY, { context: { featureName: 'Twins' } });
          return { runtime, id };
        };
        // The same session twice: with the internal messages, and without them.
        const withInternal = await open();
        const without = await open();
        try {
          for (const message of messages) {
            await withInternal.runtime.addMessage(withInternal.id, message);
            if (message.metadata?.internal !== true) await without.runtime.addMessage(without.id, message);
          }
          internalSeen += messages.filter((m) => m.metadata?.internal === true).length;
          for (const format of ['flattened', 'messages'] as const) {
            const a = await withInternal.runtime.previewRequest(withInternal.id, 'Next?', { format });
            const b = await without.runtime.previewRequest(without.id, 'Next?', { format });
            expect(a.systemPrompt).toBe(b.systemPrompt);
            expect(a.messages).toEqual(b.messages);
            expect(a.totalTokens).toBe(b.totalTokens);
            expect(a.breakdown).toEqual(b.breakdown);
            expect(JSON.stringify(a)).not.toContain('INTERNAL');
          }
          const [sizeA, sizeB] = [
            await withInternal.runtime.estimateSize(withInternal.id),
            await without.runtime.estimateSize(without.id),
          ];
          expect(sizeA.total).toBe(sizeB.total);
          expect((await withInternal.runtime.getSession(withInternal.id)).liveTokens).toBe(
            (await without.runtime.getSession(without.id)).liveTokens,
          );
          // Kept: every message is in the history, internal ones included.
          expect(await withInternal.runtime.getHistory(withInternal.id)).toHaveLength(messages.length);
        } finally {
          await withInternal.runtime.close();
          await without.runtime.close();
        }
      }),
      { numRuns: 20 },
    );
    expect(internalSeen).toBeGreaterThan(20);
  });

  it('are archived by a compaction and a clear, and read by neither the ledger nor the compactor', async () => {
    const compactor = new RecordingCompactor();
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false, compactor });
    const { id } = await runtime.createSession(DEV_TASK_KEY);
    await runtime.addMessage(id, { role: 'user', content: 'Please fix the parser in src/parser.ts.' });
    await runtime.addMessage(id, {
      role: 'user',
      content: 'HOST-NOTE: never ship on Fridays',
      metadata: { internal: true },
    });
    await runtime.addMessage(id, {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_x', name: 'Bash', input: { command: 'make deploy' } }],
      metadata: { internal: true },
    });
    await runtime.addMessage(id, {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'Exit code 2', is_error: true }],
      metadata: { internal: true },
    });
    await runtime.addMessage(id, { role: 'assistant', content: 'Looking at it.' });
    const compacted = await runtime.compact(id, { keepRecentTokens: 0 });
    expect(compacted.messagesCompacted).toBe(5);
    expect(compactor.seen).toHaveLength(2);
    expect(compactor.seen.join('\n')).not.toMatch(/HOST-NOTE|make deploy/);
    const checkpoint = await runtime.getCheckpoint(id);
    expect(checkpoint?.ledger?.requests.map((r) => r.text)).toEqual([
      'Please fix the parser in src/parser.ts.',
    ]);
    expect(checkpoint?.ledger?.commands).toEqual([]);
    expect(checkpoint?.ledger?.problems).toEqual([]);
    // The live figure dropped by what was counted: nothing is left.
    expect((await runtime.getSession(id)).liveTokens).toBe(0);

    await runtime.addMessage(id, {
      role: 'user',
      content: 'HOST-NOTE-2: synced',
      metadata: { internal: true },
    });
    expect((await runtime.getSession(id)).liveTokens).toBe(0);
    const cleared = await runtime.clearMessages(id);
    expect(cleared.archivedMessages).toBe(1);
    expect(JSON.stringify(await runtime.getCheckpoint(id))).not.toContain('HOST-NOTE');
    const history = await runtime.getHistory(id);
    expect(history.filter((m) => m.metadata?.['internal'] === true)).toHaveLength(4);
    expect(history).toHaveLength(6);
    await runtime.close();
  });

  it('are left out of getRecentMessages unless it is asked for them', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false });
    const { id } = await runtime.createSession(DEV_TASK_KEY);
    for (let i = 0; i < 6; i++)
      await runtime.addMessage(id, {
        role: 'user',
        content: `m${i}`,
        ...(i % 2 === 1 ? { metadata: { internal: true } } : {}),
      });
    await runtime.clearMessages(id); // the older ones are in the archive
    await runtime.addMessage(id, { role: 'user', content: 'm6' });
    await runtime.addMessage(id, { role: 'system', content: 'm7', metadata: { internal: true } });
    const text = (messages: { content: unknown }[]) => messages.map((m) => m.content);
    expect(text(await getRecentMessages(runtime, id, 3))).toEqual(['m2', 'm4', 'm6']);
    expect(text(await getRecentMessages(runtime, id, 3, { includeInternal: true }))).toEqual([
      'm5',
      'm6',
      'm7',
    ]);
    expect(text(await getRecentMessages(runtime, id))).toEqual(['m0', 'm2', 'm4', 'm6']);
    await runtime.close();
  });
});
