/**
 * The offline compactor: the agent's plan from its last todo list, the summary kept otherwise,
 * never the agent's prose; within budget, cancellable, never thrown off by odd input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { isSessionError } from '../../src/core/errors.js';
import type { CheckpointSummary, Message } from '../../src/core/types.js';
import { parseTranscript } from '../../src/integration/transcript.js';
import { call, estimator, result, say, toMessages, use } from './ledger-helpers.js';

const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
const signal = () => new AbortController().signal;
const compactor = new OfflineCompactor({ estimator });

/** A session with prose that the old compactor copied: intentions, narration, thinking. */
const SESSION = toMessages([
  say('user', 'Please add a --json flag to the list command in src/cli.ts.'),
  say('assistant', [
    { type: 'thinking', thinking: 'The user wants JSON output. I will use commander for parsing.' },
    { type: 'text', text: "I'll use commander's built-in option parsing. Let me look at the CLI first." },
    use('t1', 'Read', { file_path: 'src/cli.ts' }),
  ]),
  say('user', [result('t1', 'export function main() {}')]),
  ...call(
    't2',
    'TodoWrite',
    {
      todos: [
        { content: 'Read the CLI', status: 'completed' },
        { content: 'Add the --json flag', status: 'in_progress' },
        { content: 'Update the README', status: 'pending' },
      ],
    },
    'Todos have been modified successfully',
  ),
  say('assistant', 'The json test fails with an empty array. I will fix the serializer now.'),
]);

describe('OfflineCompactor', () => {
  it("takes the agent's plan from its last todo list and copies none of its prose", async () => {
    const summary = await compactor.compact(
      { checkpoint: null, messages: SESSION, budgetTokens: 1_000 },
      { signal: signal() },
    );
    expect(summary).toEqual({
      completed: ['Read the CLI'],
      inProgress: ['Add the --json flag'],
      pending: ['Update the README'],
      decisions: [],
      blockers: [],
    });
  });

  it('keeps the current summary when the messages hold no todo list; a newer list replaces the plan', async () => {
    const current: CheckpointSummary = {
      goals: ['JSON output for the list command'],
      completed: ['Read the CLI'],
      inProgress: ['Add the --json flag'],
      pending: ['Update the README'],
      decisions: ['commander parses options: the CLI already depends on it'],
      blockers: [],
    };
    const quiet = toMessages([say('assistant', 'Working on it.')], 20);
    expect(
      await compactor.compact(
        { checkpoint: current, messages: quiet, budgetTokens: 1_000 },
        { signal: signal() },
      ),
    ).toEqual(current);
    const later = toMessages(
      call(
        't9',
        'Update_Todos',
        { call: 'Update Todos' },
        '  ⎿  ☒ Add the --json flag\n     ☐ Update the README',
      ),
      30,
    );
    const next = await compactor.compact(
      { checkpoint: current, messages: later, budgetTokens: 1_000 },
      { signal: signal() },
    );
    expect(next).toEqual({
      ...current,
      completed: ['Read the CLI', 'Add the --json flag'],
      inProgress: [],
      pending: ['Update the README'],
    });
  });

  it('is deterministic', async () => {
    const a = await compactor.compact(
      { checkpoint: null, messages: SESSION, budgetTokens: 500 },
      { signal: signal() },
    );
    const b = await compactor.compact(
      { checkpoint: null, messages: SESSION, budgetTokens: 500 },
      { signal: signal() },
    );
    expect(b).toEqual(a);
  });

  it('always fits budgets >= 0, whatever the summary and the messages (property)', async () => {
    const text = fc.oneof(
      fc.lorem({ maxCount: 30 }),
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
    );
    const items = fc.array(text, { maxLength: 6 });
    const todo = fc.record({ content: text, status: fc.constantFrom('pending', 'in_progress', 'completed') });
    const checkpoint = fc.option(
      fc.record({ completed: items, inProgress: items, pending: items, decisions: items, blockers: items }),
      { nil: null },
    );
    await fc.assert(
      fc.asyncProperty(
        checkpoint,
        fc.array(todo, { maxLength: 10 }),
        fc.integer({ min: 0, max: 2_000 }),
        async (existing, todos, budget) => {
          const messages = toMessages(call('t', 'TodoWrite', { todos }, 'ok'));
          const summary = await compactor.compact(
            { checkpoint: existing, messages, budgetTokens: budget },
            { signal: signal() },
          );
          expect(estimator.estimateCheckpoint(summary)).toBeLessThanOrEqual(budget);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects a budget that is not a number >= 0', async () => {
    for (const budgetTokens of [-1, Number.NaN, '100' as unknown as number]) {
      await expect(
        compactor.compact({ checkpoint: null, messages: [], budgetTokens }, { signal: signal() }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('throws COMPACTION_CANCELLED when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('closing'));
    const error = await compactor
      .compact({ checkpoint: null, messages: SESSION, budgetTokens: 500 }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isSessionError(error, 'COMPACTION_CANCELLED')).toBe(true);
    expect((error as Error).message).toMatch(/^\[dagent-sessions\] \[compaction\]/);
  });

  it('never throws on empty, huge, unicode or malformed messages', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const odd = [
      { role: 'assistant', content: [] },
      { role: 'assistant', content: `${'x'.repeat(1_000_000)} fixed` },
      { role: 'user', content: '🎉 Ünïcödé 東京 — please add the 日本語 docs.' },
      {
        role: 'assistant',
        content: [null, 42, { type: 'image' }, { type: 'tool_use' }, { type: 'tool_result' }],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c', name: 'TodoWrite', input: cyclic }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'c', content: [{ type: 'image' }, 'x', null] }],
      },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'n', name: 'todo_write', input: { todos: [null, 1, { content: 7 }] } },
        ],
      },
      { role: 'assistant', content: undefined, metadata: 'not an object' },
      null,
    ].map((m, i) =>
      m === null ? m : { id: `o${i}`, seq: i, timestamp: '', tokens: 1, ...m },
    ) as unknown as Message[];
    const summary = await compactor.compact(
      { checkpoint: null, messages: odd, budgetTokens: 400 },
      { signal: signal() },
    );
    expect(summary).toEqual(EMPTY);
    const corrupt = { completed: 'x', pending: [1, 'kept'] } as unknown as CheckpointSummary;
    expect(
      await compactor.compact({ checkpoint: corrupt, messages: [], budgetTokens: 100 }, { signal: signal() }),
    ).toEqual({
      ...EMPTY,
      pending: ['kept'],
    });
  });

  it('has a name and a configurable input limit', () => {
    expect(new OfflineCompactor({ estimator })).toMatchObject({ name: 'offline', maxInputTokens: 200_000 });
    expect(new OfflineCompactor({ estimator, maxInputTokens: 50_000 }).maxInputTokens).toBe(50_000);
    expect(() => new OfflineCompactor({ maxInputTokens: 0 })).toThrow(/maxInputTokens/);
  });
});

const TRANSCRIPT =
  process.env['DAGENT_TRANSCRIPTS'] ??
  fileURLToPath(new URL('../../../shared/transcripts/', import.meta.url));
const hasTranscripts = existsSync(TRANSCRIPT);

describe(
  `OfflineCompactor on a real ` +
    `transcript${hasTranscripts ? '' : `: SKIPPED, ${TRANSCRIPT} is absent (set DAGENT_TRANSCRIPTS)`}`,
  () => {
    it.skipIf(!hasTranscripts)(
      'takes the last todo list of a console session, and nothing of its prose',
      async () => {
        const transcript = parseTranscript(
          JSON.parse(readFileSync(`${TRANSCRIPT}/cc-console-bookminder-day-003.json`, 'utf8')),
        );
        const messages = toMessages(transcript.messages);
        const summary = await compactor.compact(
          { checkpoint: null, messages, budgetTokens: 1_500 },
          { signal: signal() },
        );
        const prose = transcript.messages
          .filter((m) => m.role === 'assistant' && typeof m.content === 'string')
          .map((m) => m.content as string)
          .join('\n');
        const items = [...summary.completed, ...summary.inProgress, ...summary.pending];
        expect(items.length).toBeGreaterThan(0);
        // Every item is a todo entry the console printed, none a sentence of the agent's prose.
        for (const item of items) expect(prose.includes(item), item).toBe(false);
        expect(summary.decisions).toEqual([]);
        expect(summary.blockers).toEqual([]);
      },
    );
  },
);
