/**
 * Property tests of compaction through the real runtime (real files, offline compactor), with
 * generated conversations. The invariants of STYLE.md section 5, by name.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toolResultIds, toolUseIds } from '../../src/core/plan-compaction.js';
import { assertValidMessagesList } from '../../src/request/messages-list.js';
import type { ContentBlock, Message, MessageInput } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { settle } from '../helpers/settle.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import path from 'node:path';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const estimator = createTokenEstimator();

/**
 * A built request counted again as it is rendered: the whole system prompt and every message of
 * the list as the estimator counts them, plus the reply reserve (correction 1).
 */
function recount(request: {
  systemPrompt: string;
  messages: unknown[];
  breakdown: { replyReserve: number };
}): number {
  const list = request.messages as Array<{ role: 'user' | 'assistant'; content: string | ContentBlock[] }>;
  return (
    estimator.estimate(request.systemPrompt) +
    list.reduce((sum, m) => sum + estimator.estimateMessage(m), 0) +
    request.breakdown.replyReserve
  );
}

/** Tool ids as the Messages API makes them: `toolu_01` and 22 letters and digits. */
const toolIdArb = fc.stringMatching(/^[A-Za-z0-9]{22}$/).map((tail) => `toolu_01${tail}`);

const KEY = { type: 'task', agentType: 'dev', featureId: 'prop', taskId: 't', taskState: 'in_dev' } as const;

/** A turn: plain text, or a tool call followed (later, or never) by its result. */
const word = fc.constantFrom(
  'edit',
  'src/a.ts',
  'npm test',
  'passed',
  'failed',
  'decided',
  'TODO',
  'blocked',
  'ok',
  'données',
  '测试',
  '🙂',
);
// Sizes from a word to a few thousand tokens, so that sessions of a few dozen turns compact.
const textArb = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 60, size: 'max' }), fc.integer({ min: 1, max: 25 }))
  .map(([w, times]) => Array.from({ length: times }, () => w.join(' ')).join('\n'));
const turnArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      role: fc.constantFrom('user' as const, 'assistant' as const),
      text: textArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('tool' as const),
      calls: fc.integer({ min: 1, max: 3 }),
      output: textArb,
      answered: fc.boolean(),
    }),
  },
);

type Turn =
  | { kind: 'text'; role: 'user' | 'assistant'; text: string }
  | { kind: 'tool'; calls: number; output: string; answered: boolean };

function toMessages(turns: Turn[]): MessageInput[] {
  const out: MessageInput[] = [];
  let n = 0;
  for (const turn of turns) {
    if (turn.kind === 'text') {
      out.push({ role: turn.role, content: turn.text });
      continue;
    }
    const ids = Array.from({ length: turn.calls }, () => `toolu_${n++}`);
    out.push({
      role: 'assistant',
      content: ids.map((id): ContentBlock => ({
        type: 'tool_use',
        id,
        name: 'Bash',
        input: { command: turn.output.slice(0, 40) },
      })),
    });
    if (turn.answered)
      out.push({
        role: 'user',
        content: ids.map((id): ContentBlock => ({
          type: 'tool_result',
          tool_use_id: id,
          content: turn.output,
        })),
      });
  }
  return out;
}

function noPairSplit(archived: Message[], live: Message[]): void {
  const archivedUses = new Set(archived.flatMap(toolUseIds));
  const liveResults = new Set(live.flatMap(toolResultIds));
  for (const id of liveResults)
    expect(archivedUses.has(id), `tool_use ${id} archived while its tool_result is live`).toBe(false);
}

describe('compaction invariants (generated conversations, real files)', () => {
  it(
    'every appended message appears exactly once in archive + live, in order; ' +
      'the watermark never moves back; no tool pair is split; after a successful compaction ' +
      'the request is under the threshold; a built request never passes the limit',
    async () => {
      let compactions = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(turnArb, { minLength: 5, maxLength: 70, size: 'max' }) as fc.Arbitrary<Turn[]>,
          fc.integer({ min: 2_000, max: 6_000 }),
          fc.double({ min: 0.5, max: 0.95, noNaN: true }),
          async (turns, maxTokens, compactAt) => {
            const root = await tempRoot();
            const keepRecentTokens = Math.floor(maxTokens * 0.15);
            const runtime = await createSessionRuntime({
              root,
              durable: false,
              limits: {
                maxTokens,
                compactAt,
                keepRecentTokens,
                checkpointTokens: Math.floor(maxTokens * 0.1),
              },
            });
            const events: SessionEvent[] = [];
            runtime.subscribe((e) => events.push(e));
            try {
              const { id, limits } = await runtime.createSession(KEY);
              const threshold = Math.floor(limits.maxTokens * limits.compactAt);
              const messages = toMessages(turns);
              const acked: Message[] = [];
              for (const m of messages) acked.push(await runtime.addMessage(id, m));
              await settle(runtime, id);
              const history = await runtime.getHistory(id);
              const live = await runtime.getMessages(id);
              // Exactly once, in order, verbatim.
              expect(history.map((m) => m.id)).toEqual(acked.map((m) => m.id));
              expect(history.map((m) => m.content)).toEqual(messages.map((m) => m.content));
              const archived = history.slice(0, history.length - live.length);
              expect(live).toEqual(history.slice(archived.length));
              noPairSplit(archived, live);
              let watermark = -1;
              for (const e of events) {
                if (e.type !== 'session.compaction.completed') continue;
                compactions++;
                // The watermark never moves back; a successful compaction lands under the threshold.
                expect(e.result.archivedThroughSeq).toBeGreaterThanOrEqual(watermark);
                watermark = e.result.archivedThroughSeq;
                if (e.result.underThreshold) expect(e.tokensAfter).toBeLessThan(threshold);
              }
              const info = await runtime.getSession(id);
              if (info.state === 'idle')
                expect((await runtime.estimateSize(id)).total).toBeLessThan(threshold);
              else expect(info.error?.code).toBe('COMPACTION_NO_PROGRESS');
              // A built request never passes the limit, and is a valid Messages API list.
              const request = await runtime.buildRequest(id, 'What next?', { format: 'messages' });
              expect(request.totalTokens).toBeLessThanOrEqual(limits.maxTokens);
              assertValidMessagesList(request.messages);
              expect(await runtime.getHistory(id)).toHaveLength(acked.length); // building a request removes nothing
            } finally {
              await runtime.close();
            }
          },
        ),
        { numRuns: 25 },
      );
      // The generated conversations did compact (the invariants were not checked on empty archives).
      expect(compactions).toBeGreaterThan(25);
    },
  );

  it(
    'a built request counted again as rendered (flattened or as a list) ' +
      'never passes the limit nor the size it reports',
    async () => {
      const callArb = fc.record({
        ids: fc.array(toolIdArb, { minLength: 1, maxLength: 4 }),
        name: fc.constantFrom('Bash', 'Read', 'str_replace_based_edit_tool', 'mcp__github__create_issue'),
        output: textArb,
        answered: fc.boolean(),
        isError: fc.boolean(),
      });
      const turnsArb = fc.array(fc.oneof(callArb, textArb), { minLength: 5, maxLength: 60 });
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(turnsArb, fc.integer({ min: 3_000, max: 20_000 }), async (turns, maxTokens) => {
          const root = await tempRoot();
          const runtime = await createSessionRuntime({ root, durable: false, limits: { maxTokens } });
          try {
            const { id } = await runtime.createSession(KEY);
            const seen = new Set<string>();
            for (const turn of turns) {
              if (typeof turn === 'string') {
                await runtime.addMessage(id, { role: 'user', content: turn });
                continue;
              }
              const ids = turn.ids.filter((toolId) => !seen.has(toolId));
              ids.forEach((toolId) => seen.add(toolId));
              if (ids.length === 0) continue;
              await runtime.addMessage(id, {
                role: 'assistant',
                content: ids.map((toolId): ContentBlock => ({
                  type: 'tool_use',
                  id: toolId,
                  name: turn.name,
                  input: { command: turn.output.slice(0, 80), path: 'src/a.ts' },
                })),
              });
              if (turn.answered)
                await runtime.addMessage(id, {
                  role: 'user',
                  content: ids.map((toolId): ContentBlock => ({
                    type: 'tool_result',
                    tool_use_id: toolId,
                    content: turn.output,
                    ...(turn.isError ? { is_error: true } : {}),
                  })),
                });
            }
            await settle(runtime, id);
            for (const format of ['flattened', 'messages'] as const) {
              const request = await runtime.buildRequest(id, 'What next?', { format });
              const counted = recount(request);
              expect(
                counted,
                `${format}: rendered ${counted}, reported ${request.totalTokens}`,
              ).toBeLessThanOrEqual(request.totalTokens);
              expect(request.totalTokens).toBeLessThanOrEqual(maxTokens);
              checked++;
            }
          } finally {
            await runtime.close();
          }
        }),
        { numRuns: 30 },
      );
      expect(checked).toBe(60);
    },
  );

  it('a compactor that fails at any call leaves the session exactly as it was', async () => {
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(turnArb, { minLength: 20, maxLength: 60 }) as fc.Arbitrary<Turn[]>,
        fc.integer({ min: 1, max: 4 }),
        async (turns, failOn) => {
          const root = await tempRoot();
          // A small compactor window forces chunked folding, so the failure can hit any chunk.
          const compactor = new ScriptedCompactor(700);
          const runtime = await createSessionRuntime({
            root,
            durable: false,
            compactor,
            limits: { maxTokens: 200_000 },
          });
          try {
            const { id } = await runtime.createSession(KEY);
            for (const m of toMessages(turns)) await runtime.addMessage(id, m);
            const dir = path.join(root, '.dagent', 'sessions', id);
            const before = await snapshotDir(dir);
            const messagesBefore = await runtime.getMessages(id);
            compactor.failOnCall = compactor.calls + failOn;
            const outcome = await runtime.compact(id, { keepRecentTokens: 0 }).then(
              (r) => r,
              (e: unknown) => e,
            );
            if (compactor.calls >= compactor.failOnCall) {
              failures++;
              expect((outcome as { code?: string }).code).toBe('COMPACTOR_UNAVAILABLE');
              expect(await snapshotDir(dir)).toEqual(before);
              expect(await runtime.getMessages(id)).toEqual(messagesBefore);
              expect(await runtime.getCheckpoint(id)).toBeNull();
            }
          } finally {
            await runtime.close();
          }
        },
      ),
      { numRuns: 20 },
    );
    expect(failures).toBeGreaterThan(5);
  });
});
