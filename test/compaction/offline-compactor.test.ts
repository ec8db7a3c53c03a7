import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { CheckpointSummary, ContentBlock, Message, MessageInput, Role } from '../../src/core/types.js';
import type { CompactionProgress } from '../../src/compaction/compactor.js';
import { OfflineCompactor, mergeSummaries } from '../../src/compaction/offline-compactor.js';
import { parseTranscript } from '../../src/integration/transcript.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const estimator = createTokenEstimator();
const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
const signal = () => new AbortController().signal;

function toMessages(inputs: MessageInput[], from = 0): Message[] {
  return inputs.map((input, i) => ({
    id: `m${from + i}`,
    seq: from + i,
    timestamp: '2025-01-01T00:00:00.000Z',
    tokens: estimator.estimateMessage(input),
    ...input,
  }));
}
const say = (
  role: Role,
  content: string | ContentBlock[],
  metadata?: Record<string, unknown>,
): MessageInput => (metadata === undefined ? { role, content } : { role, content, metadata });
const use = (id: string, name: string, input: unknown): ContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input,
});
const result = (id: string, content: string, isError = false): ContentBlock =>
  isError
    ? { type: 'tool_result', tool_use_id: id, content, is_error: true }
    : { type: 'tool_result', tool_use_id: id, content };

/** A realistic session: a request, reads and edits, a failing test run, a decision, a fix, a green run. */
const BEFORE_FIX: MessageInput[] = [
  say('user', 'Please add a --json flag to the list command in src/cli.ts.'),
  say('assistant', [
    { type: 'text', text: 'Let me look at the CLI first.' },
    use('t1', 'Read', { file_path: 'src/cli.ts' }),
  ]),
  say('user', [result('t1', 'export function main() {}')]),
  say('assistant', [
    { type: 'text', text: "I'll use commander's built-in option parsing instead of a hand-written parser." },
    use('t2', 'Edit', { file_path: 'src/cli.ts', old_string: 'a', new_string: 'b' }),
  ]),
  say('user', [result('t2', 'The file src/cli.ts has been updated.')]),
  say('assistant', [use('t3', 'Bash', { command: 'npm test' })]),
  say('user', [
    result(
      't3',
      'FAIL test/cli.test.ts\n  x prints json\nAssertionError: expected "[]" to equal "{}"\n1 failed, 12 passed',
      true,
    ),
  ]),
  say(
    'assistant',
    'The json test fails with an empty array. Now I will fix the serializer in src/format.ts.',
  ),
];
const AFTER_FIX: MessageInput[] = [
  say('assistant', [use('t4', 'Edit', { file_path: 'src/format.ts', old_string: 'x', new_string: 'y' })]),
  say('user', [result('t4', 'ok')]),
  say('assistant', [use('t5', 'Bash', { command: 'cd /repo && npm test' })]),
  say('user', [result('t5', 'Test Files  3 passed\nTests  13 passed')]),
  say('assistant', 'Fixed the serializer; all tests pass now. TODO: update the README with the new flag.'),
];

const hasItem = (items: string[], fragment: string) =>
  items.some((item) => item.toLowerCase().includes(fragment.toLowerCase()));

describe('OfflineCompactor: extraction', () => {
  it('finds files, commands with their outcome, decisions, requests and blockers', async () => {
    const compactor = new OfflineCompactor({ estimator });
    const summary = await compactor.compact(
      { checkpoint: null, messages: toMessages(BEFORE_FIX), budgetTokens: 2_000 },
      { signal: signal() },
    );
    expect(summary.completed).toContain('edited `src/cli.ts`');
    expect(hasItem(summary.completed, 'read `src/cli.ts`')).toBe(true);
    expect(hasItem(summary.decisions, 'commander')).toBe(true);
    expect(hasItem(summary.pending, 'User asked: Please add a --json flag')).toBe(true);
    expect(summary.blockers).toEqual([
      expect.stringMatching(/^`npm test` failed: AssertionError: expected/),
      'The json test fails with an empty array.',
    ]);
    expect(hasItem(summary.inProgress, 'Fix the serializer in src/format.ts')).toBe(true);
    for (const section of Object.values(summary))
      for (const item of section) expect(item.length).toBeLessThanOrEqual(201);
  });

  it('resolves the blocker once the same command succeeds, and moves finished work to completed (across compactions)', async () => {
    const compactor = new OfflineCompactor({ estimator });
    const first = await compactor.compact(
      { checkpoint: null, messages: toMessages(BEFORE_FIX), budgetTokens: 2_000 },
      { signal: signal() },
    );
    const second = await compactor.compact(
      { checkpoint: first, messages: toMessages(AFTER_FIX, BEFORE_FIX.length), budgetTokens: 2_000 },
      { signal: signal() },
    );
    expect(second.blockers).toEqual([]);
    expect(hasItem(second.completed, 'resolved: `npm test` failed')).toBe(true);
    expect(second.completed).toContain('ran `npm test` (ok)');
    expect(second.completed).toContain('edited `src/format.ts`');
    // The in-progress item named src/format.ts; the edit of that file completed it.
    expect(hasItem(second.inProgress, 'serializer')).toBe(false);
    expect(hasItem(second.completed, 'Fix the serializer in src/format.ts')).toBe(true);
    expect(hasItem(second.pending, 'update the README with the new flag')).toBe(true);
    // Everything the first checkpoint knew is still there.
    expect(second.completed).toEqual(expect.arrayContaining(first.completed));
    expect(second.decisions).toEqual(expect.arrayContaining(first.decisions));

    const once = await compactor.compact(
      { checkpoint: null, messages: toMessages([...BEFORE_FIX, ...AFTER_FIX]), budgetTokens: 2_000 },
      { signal: signal() },
    );
    expect(once.blockers).toEqual([]);
    expect(once.completed).toContain('ran `npm test` (ok)');
  });

  it('is deterministic: the same input gives the same output', async () => {
    const input = {
      checkpoint: { ...EMPTY, pending: ['write docs'] },
      messages: toMessages([...BEFORE_FIX, ...AFTER_FIX]),
      budgetTokens: 150,
    };
    const a = await new OfflineCompactor({ estimator }).compact(input, { signal: signal() });
    const b = await new OfflineCompactor({ estimator }).compact(structuredClone(input), { signal: signal() });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(estimator.estimateCheckpoint(a)).toBeLessThanOrEqual(150);
  });

  it('merges with an existing checkpoint: keeps its items, completes what was reported done, de-duplicates', async () => {
    const existing: CheckpointSummary = {
      completed: ['Set up the repository'],
      inProgress: ['Implement the tokenizer in `src/lexer.ts`'],
      pending: ['Add tests for the lexer edge cases', 'Write the CHANGELOG entry'],
      decisions: ['Use vitest for tests'],
      blockers: ['`npm run build` failed: error TS2304'],
    };
    const messages = toMessages([
      say('assistant', [use('a', 'Write', { file_path: 'src/lexer.ts', content: '...' })]),
      say('user', [result('a', 'File created successfully')]),
      say('assistant', 'Added tests for the lexer edge cases. Decided to use vitest for tests.'),
      say('assistant', [use('b', 'Bash', { command: 'npm run build' })]),
      say('user', [result('b', 'built in 2s')]),
    ]);
    const summary = await new OfflineCompactor({ estimator }).compact(
      { checkpoint: existing, messages, budgetTokens: 2_000 },
      { signal: signal() },
    );
    expect(summary.completed.slice(0, 1)).toEqual(['Set up the repository']);
    // The pending item moved to completed; the newer wording of the same statement replaced it.
    expect(summary.completed).toEqual(
      expect.arrayContaining([
        'Implement the tokenizer in `src/lexer.ts`',
        'wrote `src/lexer.ts`',
        'Added tests for the lexer edge cases.',
      ]),
    );
    expect(summary.inProgress).toEqual([]);
    expect(summary.pending).toEqual(['Write the CHANGELOG entry']);
    expect(summary.decisions.filter((d) => /vitest for tests/i.test(d))).toHaveLength(1);
    expect(summary.blockers).toEqual([]);
    expect(summary.completed).toContain('resolved: `npm run build` failed: error TS2304');
  });

  it('understands string-form tool calls of imported console transcripts', async () => {
    const messages = toMessages([
      say('assistant', 'Bash(npm run build)…', { toolName: 'Bash' }),
      say('user', '  ⎿  Error: src/a.ts(3,1): error TS1005: ";" expected.', { toolName: 'Bash' }),
      say('assistant', 'Update(src/a.ts)…', { toolName: 'Update' }),
      say('user', '  ⎿  Updated src/a.ts with 1 addition', { toolName: 'Update' }),
      say('assistant', 'Bash(npm run build)', { toolName: 'Bash' }),
      say('user', '  ⎿  built', { toolName: 'Bash' }),
      say('user', 'stray tool output with an Error: inside', { toolName: 'Bash', orphanToolResult: true }),
    ]);
    const mid = await new OfflineCompactor({ estimator }).compact(
      { checkpoint: null, messages: messages.slice(0, 2), budgetTokens: 500 },
      { signal: signal() },
    );
    expect(mid.blockers).toEqual([
      '`npm run build` failed: Error: src/a.ts(3,1): error TS1005: ";" expected.',
    ]);
    const all = await new OfflineCompactor({ estimator }).compact(
      { checkpoint: null, messages, budgetTokens: 500 },
      { signal: signal() },
    );
    expect(all.blockers).toEqual([]);
    expect(all.completed).toEqual(expect.arrayContaining(['edited `src/a.ts`', 'ran `npm run build` (ok)']));
  });

  it('understands tool_use blocks made by the transcript importer (input.call)', async () => {
    const transcript = parseTranscript({
      source: 'test',
      messages: [
        { role: 'assistant', content: 'Bash(pytest specs/)…', toolName: 'Bash' },
        { role: 'tool', content: '  ⎿  Error: (eval):1: command not found: pytest', toolName: 'Bash' },
        { role: 'assistant', content: 'Write(file_path: conftest.py)…', toolName: 'Write' },
        { role: 'tool', content: '  ⎿ Wrote 6 lines to conftest.py', toolName: 'Write' },
        { role: 'assistant', content: 'Update Todos', toolName: 'Update Todos' },
        {
          role: 'tool',
          content: '  ⎿  ☒ Add conftest.py\n     ☐ Add comments to pytest.ini',
          toolName: 'Update Todos',
        },
      ],
    });
    const summary = await new OfflineCompactor({ estimator }).compact(
      { checkpoint: null, messages: toMessages(transcript.messages), budgetTokens: 500 },
      { signal: signal() },
    );
    expect(summary.blockers).toEqual(['`pytest specs/` failed: Error: (eval):1: command not found: pytest']);
    expect(summary.completed).toEqual(expect.arrayContaining(['wrote `conftest.py`', 'Add conftest.py']));
    expect(summary.pending).toContain('Add comments to pytest.ini');
  });

  it('reads TodoWrite inputs', async () => {
    const todos = [
      { content: 'Parse the config', status: 'completed' },
      { content: 'Validate the config', status: 'in_progress' },
      { content: 'Document the config', status: 'pending' },
    ];
    const messages = toMessages([
      say('assistant', [use('t', 'TodoWrite', { todos })]),
      say('user', [result('t', 'Todos updated')]),
    ]);
    const summary = await new OfflineCompactor({ estimator }).compact(
      { checkpoint: null, messages, budgetTokens: 500 },
      { signal: signal() },
    );
    expect(summary).toMatchObject({
      completed: ['Parse the config'],
      inProgress: ['Validate the config'],
      pending: ['Document the config'],
    });
  });
});

describe('OfflineCompactor: budget', () => {
  it('drops the oldest completed items first, keeping blockers and work in progress', async () => {
    const checkpoint: CheckpointSummary = {
      completed: Array.from({ length: 40 }, (_, i) => `Finished step number ${i} of the migration plan`),
      inProgress: ['Port the importer'],
      pending: ['Review the API'],
      decisions: ['Keep JSON files'],
      blockers: ['`npm test` failed: 3 failed'],
    };
    const full = estimator.estimateCheckpoint(checkpoint);
    const budget = Math.floor(full / 2);
    const summary = await new OfflineCompactor({ estimator }).compact(
      { checkpoint, messages: [], budgetTokens: budget },
      { signal: signal() },
    );
    expect(estimator.estimateCheckpoint(summary)).toBeLessThanOrEqual(budget);
    expect(summary).toMatchObject({
      inProgress: checkpoint.inProgress,
      pending: checkpoint.pending,
      decisions: checkpoint.decisions,
      blockers: checkpoint.blockers,
    });
    expect(summary.completed.length).toBeGreaterThan(0);
    expect(summary.completed.length).toBeLessThan(40);
    // What is left is the newest part, in order.
    expect(summary.completed).toEqual(checkpoint.completed.slice(-summary.completed.length));
  });

  it('always fits budgets >= 60, whatever the messages (property)', async () => {
    const text = fc.oneof(
      fc.lorem({ maxCount: 30 }),
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.constantFrom(
        'Fixed the bug in `src/a.ts`.',
        'TODO: add tests',
        'We decided to use SQLite.',
        'The build is blocked by a missing key.',
        'Let me run the tests.',
      ),
    );
    const block = fc.oneof(
      text.map((t): ContentBlock => ({ type: 'text', text: t })),
      fc
        .record({
          id: fc.constantFrom('a', 'b', 'c'),
          name: fc.constantFrom('Bash', 'Edit', 'Read', 'Write', 'TodoWrite', 'Weird'),
          command: text,
        })
        .map(({ id, name, command }): ContentBlock => ({
          type: 'tool_use',
          id,
          name,
          input: { command, file_path: `src/${id}.ts` },
        })),
      fc
        .record({ id: fc.constantFrom('a', 'b', 'c'), content: text, err: fc.boolean() })
        .map(({ id, content, err }) => result(id, content, err)),
      text.map((t): ContentBlock => ({ type: 'thinking', thinking: t })),
    );
    const message = fc.record({
      role: fc.constantFrom<Role>('user', 'assistant', 'system'),
      content: fc.oneof(text, fc.array(block, { maxLength: 4 })),
      metadata: fc.option(fc.record({ toolName: fc.constantFrom('Bash', 'Update', 'Read Todos') }), {
        nil: undefined,
      }),
    });
    const items = fc.array(text, { maxLength: 6 });
    const checkpoint = fc.option(
      fc.record({ completed: items, inProgress: items, pending: items, decisions: items, blockers: items }),
      { nil: null },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 25 }),
        checkpoint,
        fc.integer({ min: 60, max: 3_000 }),
        async (inputs, existing, budget) => {
          const messages = toMessages(
            inputs.map((m) => (m.metadata === undefined ? { role: m.role, content: m.content } : m)),
          );
          const summary = await new OfflineCompactor({ estimator }).compact(
            { checkpoint: existing, messages, budgetTokens: budget },
            { signal: signal() },
          );
          expect(estimator.estimateCheckpoint(summary)).toBeLessThanOrEqual(budget);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fits tiny budgets by shortening or dropping everything, never by throwing', async () => {
    const checkpoint: CheckpointSummary = {
      ...EMPTY,
      blockers: ['界'.repeat(400)],
      inProgress: ['長い'.repeat(300)],
    };
    for (const budget of [0, 5, 20, 50, 60]) {
      const summary = await new OfflineCompactor({ estimator }).compact(
        { checkpoint, messages: [], budgetTokens: budget },
        { signal: signal() },
      );
      expect(estimator.estimateCheckpoint(summary)).toBeLessThanOrEqual(budget);
    }
    const fits = await new OfflineCompactor({ estimator }).compact(
      { checkpoint, messages: [], budgetTokens: 60 },
      { signal: signal() },
    );
    expect(fits.inProgress.length + fits.blockers.length).toBeGreaterThan(0);
  });

  it('rejects a budget that is not a number >= 0', async () => {
    for (const budgetTokens of [-1, Number.NaN, '100' as unknown as number]) {
      await expect(
        new OfflineCompactor({ estimator }).compact(
          { checkpoint: null, messages: [], budgetTokens },
          { signal: signal() },
        ),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
  });
});

describe('OfflineCompactor: cancellation and odd input', () => {
  it('throws COMPACTION_CANCELLED when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('closing'));
    const error = await new OfflineCompactor({ estimator })
      .compact(
        { checkpoint: null, messages: toMessages(BEFORE_FIX), budgetTokens: 500 },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    expect(isSessionError(error, 'COMPACTION_CANCELLED')).toBe(true);
    expect((error as Error).message).toMatch(/^\[dagent-sessions\] \[compaction\]/);
  });

  it('throws COMPACTION_CANCELLED when aborted while it works through the messages', async () => {
    const controller = new AbortController();
    const progress: CompactionProgress[] = [];
    const messages = toMessages(
      Array.from({ length: 350 }, (_, i) => say('assistant', `Implemented step ${i} of the plan.`)),
    );
    const run = new OfflineCompactor({ estimator }).compact(
      { checkpoint: null, messages, budgetTokens: 500 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p);
          controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'COMPACTION_CANCELLED' });
    expect(progress).toEqual([{ chunk: 1, chunks: 4 }]);
  });

  it('is cancellable by a timer during a long batch (it yields between slices)', async () => {
    const messages = toMessages(
      Array.from({ length: 3_000 }, (_, i) =>
        say('assistant', `Added feature ${i}. Let me continue with the next step now.`),
      ),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 0);
    await expect(
      new OfflineCompactor({ estimator }).compact(
        { checkpoint: null, messages, budgetTokens: 500 },
        { signal: controller.signal },
      ),
    ).rejects.toMatchObject({ code: 'COMPACTION_CANCELLED' });
  });

  it('never throws on empty, huge, unicode or malformed messages', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const odd = [
      { role: 'assistant', content: [] },
      { role: 'assistant', content: '' },
      { role: 'assistant', content: `${'x'.repeat(1_000_000)} fixed` },
      { role: 'user', content: '🎉 Ünïcödé 東京 — please add the 日本語 docs. Never push to main!' },
      {
        role: 'assistant',
        content: [
          null,
          42,
          { type: 'image' },
          { type: 'tool_use' },
          { type: 'tool_result' },
          { type: 'text', text: 7 },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c', name: 'Bash', input: cyclic }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'c', content: [{ type: 'image' }, 'x', null] }],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'n', name: 'Edit', input: null }] },
      { role: 'system', content: 'You are a helpful agent. Always be careful.' },
      { role: 'assistant', content: undefined, metadata: 'not an object' },
      { role: 'assistant', content: 'Bash', metadata: { toolName: 'Bash' } },
      null,
    ].map((m, i) =>
      m === null ? m : { id: `o${i}`, seq: i, timestamp: '', tokens: 1, ...m },
    ) as unknown as Message[];
    const compactor = new OfflineCompactor({ estimator });
    const summary = await compactor.compact(
      { checkpoint: null, messages: odd, budgetTokens: 400 },
      { signal: signal() },
    );
    expect(estimator.estimateCheckpoint(summary)).toBeLessThanOrEqual(400);
    expect(hasItem(summary.decisions, 'Never push to main')).toBe(true);
    expect(
      await compactor.compact({ checkpoint: null, messages: [], budgetTokens: 100 }, { signal: signal() }),
    ).toEqual(EMPTY);
    const corrupt = { completed: 'x', pending: [1, 'kept'] } as unknown as CheckpointSummary;
    expect(
      await compactor.compact({ checkpoint: corrupt, messages: [], budgetTokens: 100 }, { signal: signal() }),
    ).toEqual({ ...EMPTY, pending: ['kept'] });
  });

  it('has a name and a configurable input limit', () => {
    expect(new OfflineCompactor({ estimator })).toMatchObject({ name: 'offline', maxInputTokens: 200_000 });
    expect(new OfflineCompactor({ estimator, maxInputTokens: 50_000 }).maxInputTokens).toBe(50_000);
    expect(() => new OfflineCompactor({ maxInputTokens: 0 })).toThrow(/maxInputTokens/);
  });
});

describe('mergeSummaries', () => {
  it('keeps both, completes open items reported done, and does not modify its arguments', () => {
    const base: CheckpointSummary = {
      ...EMPTY,
      inProgress: ['write the parser in `src/parser.ts`'],
      pending: ['Deploy to staging'],
      decisions: ['Use SQLite'],
    };
    const update: CheckpointSummary = {
      ...EMPTY,
      completed: ['edited `src/parser.ts`'],
      inProgress: ['Deploy to staging now'],
      decisions: ['use sqlite'],
    };
    const copy = structuredClone(base);
    expect(mergeSummaries(base, update)).toEqual({
      completed: ['write the parser in `src/parser.ts`', 'edited `src/parser.ts`'],
      inProgress: ['Deploy to staging now'],
      pending: [],
      decisions: ['use sqlite'],
      blockers: [],
    });
    expect(base).toEqual(copy);
  });
});

const TRANSCRIPT =
  process.env['DAGENT_TRANSCRIPTS'] ??
  fileURLToPath(new URL('../../../shared/transcripts/', import.meta.url));
const hasTranscripts = existsSync(TRANSCRIPT);

describe(`OfflineCompactor on a real transcript${hasTranscripts ? '' : `: SKIPPED, ${TRANSCRIPT} is absent (set DAGENT_TRANSCRIPTS)`}`, () => {
  it.skipIf(!hasTranscripts)(
    'summarises a whole console session within budget, deterministically',
    async () => {
      const transcript = parseTranscript(
        JSON.parse(readFileSync(`${TRANSCRIPT}/cc-console-bookminder-day-003.json`, 'utf8')),
      );
      const messages = toMessages(transcript.messages);
      const compactor = new OfflineCompactor({ estimator });
      const a = await compactor.compact(
        { checkpoint: null, messages, budgetTokens: 1_500 },
        { signal: signal() },
      );
      const b = await compactor.compact(
        { checkpoint: null, messages, budgetTokens: 1_500 },
        { signal: signal() },
      );
      expect(b).toEqual(a);
      expect(estimator.estimateCheckpoint(a)).toBeLessThanOrEqual(1_500);
      expect(estimator.estimateCheckpoint(a)).toBeGreaterThan(1_000);
      expect(a.completed.length).toBeGreaterThan(0);
      expect(a.blockers.length).toBeGreaterThan(0);
      expect(hasItem(a.completed, 'requirements.txt')).toBe(true);
    },
  );
});
