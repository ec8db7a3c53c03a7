/**
 * No decay over many compactions: facts of the first minutes of a long session (the user's
 * request, files changed, a test run still failing, a check that passes, a name in use) reach the
 * request after the tenth compaction exactly as after the first. The session is synthetic, long
 * and realistic: after the early work, hundreds of turns of reading files, looking around and
 * explaining, which the ledger keeps below the facts that matter.
 */
import { describe, expect, it } from 'vitest';
import type { MessageInput } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { settle } from '../helpers/settle.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY = { type: 'task', agentType: 'dev', featureId: 'decay', taskId: 't', taskState: 'in_dev' } as const;
let ids = 0;
const call = (name: string, input: unknown, output: string, isError = false): MessageInput[] => {
  const id = `toolu_${++ids}`;
  return [
    { role: 'assistant', content: [{ type: 'tool_use', id, name, input }] },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: id, content: output, ...(isError ? { is_error: true } : {}) },
      ],
    },
  ];
};

const REQUEST = 'Build the CSV exporter with RFC 4180 quoting in quoteField; never add a dependency for it.';
const EARLY: MessageInput[] = [
  { role: 'user', content: REQUEST },
  ...call(
    'Edit',
    { file_path: 'src/export/csv.ts', old_string: 'a', new_string: 'quoteField(a)' },
    'The file has been updated.',
  ),
  ...call('Write', { file_path: 'test/csv.test.ts', content: 'it("quotes")' }, 'File created successfully.'),
  ...call('Bash', { command: 'npm run lint' }, 'All checks passed'),
  { role: 'assistant', content: 'quoteField now doubles embedded quotes.' },
  ...call(
    'Bash',
    { command: 'npm test' },
    'FAIL test/csv.test.ts\nAssertionError: expected "a""b"\n2 failed, 5 passed',
    true,
  ),
  ...call('Bash', { command: 'npm run lint' }, 'All checks passed'),
];

/** The expected facts, as the request must carry them. */
const FACTS = [
  REQUEST,
  'src/export/csv.ts',
  'test/csv.test.ts',
  '`npm test` failed (2 failed, 5 passed): AssertionError: expected "a""b"',
  '`npm run lint` → ok ×2',
  'quoteField',
];

/**
 * Turn i of the long middle: the agent reads and edits one more module, looks around, and narrates
 * what it did and will do; nothing here makes an early fact less true.
 */
function filler(i: number): MessageInput[] {
  const prose =
    `I've updated module ${i} to use the shared parser. Now let me check the next module. ` +
    'The parser walks the rows, splits the fields and hands them on. '.repeat(10);
  const turn: MessageInput[] = [
    ...call('Read', { file_path: `src/module${i}.ts` }, `export const m${i} = ${i};\n`.repeat(30)),
    ...call(
      'Edit',
      { file_path: `src/module${i}.ts`, old_string: 'a', new_string: 'b' },
      'The file has been updated.',
    ),
    { role: 'assistant', content: prose },
    ...call('Bash', { command: 'git status --short' }, ` M src/module${i}.ts`),
  ];
  if (i % 40 === 0) turn.push({ role: 'user', content: `Keep going, module ${i} looks fine.` });
  return turn;
}

describe('no decay over many compactions', () => {
  it('carries the early facts after the tenth compaction exactly as after the first', async () => {
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      durable: false,
      limits: { maxTokens: 20_000 },
    });
    try {
      const { id } = await runtime.createSession(KEY);
      const compactions: number[] = [];
      runtime.subscribe((e) => {
        if (e.type === 'session.compaction.completed' && e.result.kind === 'compacted')
          compactions.push(e.result.checkpointVersion);
      });
      const carried = async () => {
        const request = await runtime.buildRequest(id, 'Continue.', { format: 'messages' });
        const text = `${request.systemPrompt}\n${JSON.stringify(request.messages)}`;
        return FACTS.filter((fact) => text.includes(fact));
      };
      for (const message of EARLY) await runtime.addMessage(id, message);
      let afterFirst: string[] | null = null;
      for (let i = 0; compactions.length < 12 && i < 2_000; i++) {
        for (const message of filler(i)) await runtime.addMessage(id, message);
        await settle(runtime, id);
        if (afterFirst === null && compactions.length >= 1) {
          // The early messages are archived by now: only the checkpoint can carry them.
          expect((await runtime.getMessages(id)).some((m) => m.content === REQUEST)).toBe(false);
          afterFirst = await carried();
        }
      }
      expect(compactions.length).toBeGreaterThanOrEqual(10);
      expect(afterFirst).toEqual(FACTS);
      expect(await carried()).toEqual(afterFirst);
    } finally {
      await runtime.close();
    }
  });
});
