/**
 * A Ralph loop that remembers: each iteration's outcome goes into the checkpoint in the clear's
 * commit, so that a later iteration's fresh request names what an earlier one did. A scripted
 * agent edits real files and runs a real command (`node check.mjs`), reporting them as Claude
 * Code's tool calls; the runtime is real, on a real directory.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ContentBlock, MessageInput } from '../../src/core/types.js';
import { createTaskLoop, type TaskAgent, type TaskAgentInput } from '../../src/integration/task-loop.js';
import { loadTask } from '../../src/integration/task.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const run = promisify(execFile);

const CHECK = `import { parse } from './src/parser.mjs';
const cases = [['1+2', 3], ['2*3', 6], ['', 0], ['7', 7], ['10-4', 6], ['12*2', 24]];
let failed = 0;
for (const [input, want] of cases) {
  let got;
  try { got = parse(input); } catch (error) { got = error.message; }
  if (got !== want) { failed++; console.log('FAIL', JSON.stringify(input), 'got', JSON.stringify(got)); }
}
console.log(\`\${failed} failed, \${cases.length - failed} passed\`);
process.exit(failed > 0 ? 1 : 0);
`;

/** A project on disk whose check fails until the parser and the tokenizer are both right. */
async function project(): Promise<string> {
  const dir = await tempRoot('ralph-project-');
  await mkdir(path.join(dir, 'src'));
  await writeFile(path.join(dir, 'check.mjs'), CHECK);
  await writeFile(path.join(dir, 'src/tokens.mjs'), 'export const tokens = (s) => s.split("");\n');
  await writeFile(path.join(dir, 'src/parser.mjs'), 'export const parse = () => NaN;\n');
  return dir;
}

/** Claude Code's shape of a tool call and its result, as two messages. */
function toolCall(id: string, name: string, input: unknown, result: string, isError = false): MessageInput[] {
  const use: ContentBlock = { type: 'tool_use', id, name, input };
  const answer: ContentBlock = { type: 'tool_result', tool_use_id: id, content: result, is_error: isError };
  return [
    { role: 'assistant', content: [use] },
    { role: 'user', content: [answer] },
  ];
}

/**
 * Iteration 1 writes a parser that joins tokens with spaces (still wrong for numbers of two digits:
 * the tokenizer splits them) and runs the check: exit 1. Iteration 2 fixes the tokenizer and the
 * check passes. Iteration 3 only checks.
 */
function scriptedAgent(dir: string, seen: TaskAgentInput[]): TaskAgent {
  const edit = async (file: string, body: string) => {
    const before = await readFile(path.join(dir, file), 'utf8');
    await writeFile(path.join(dir, file), body);
    return { file_path: file, old_string: before, new_string: body };
  };
  const check = async (): Promise<{ code: number; output: string }> => {
    try {
      const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: dir });
      return { code: 0, output: stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string };
      return { code: e.code, output: e.stdout };
    }
  };
  const report = async (n: number): Promise<MessageInput[]> => {
    const { code, output } = await check();
    const text = code === 0 ? output : `Exit code ${code}\n${output}`;
    return toolCall(`run-${n}`, 'Bash', { command: 'node check.mjs' }, text, code !== 0);
  };
  const outcome = async () => {
    const { code, output } = await check();
    const line = output.trim().split('\n').pop() ?? '';
    return [{ checkId: 'unit-tests', passed: code === 0, ...(code === 0 ? {} : { error: line }) }];
  };
  return async (input) => {
    seen.push(input);
    const n = input.iteration;
    if (n === 1) {
      const change = await edit(
        'src/parser.mjs',
        "import { tokens } from './tokens.mjs';\n" +
          'export const parse = (s) => { const t = tokens(s); if (t.length === 0) return 0;' +
          ' return Function(`return (${t.join(" ")})`)(); };\n',
      );
      return {
        messages: [
          { role: 'assistant', content: 'ITER1-PROSE: I rewrote the parser on top of the tokenizer.' },
          ...toolCall('edit-1', 'Edit', change, 'The file src/parser.mjs has been updated.'),
          ...(await report(1)),
        ],
        checks: await outcome(),
      };
    }
    if (n === 2) {
      const change = await edit(
        'src/tokens.mjs',
        'export const tokens = (s) => s.match(/\\d+|[-+*]/g) ?? [];\n',
      );
      return {
        messages: [
          ...toolCall('edit-2', 'Edit', change, 'The file src/tokens.mjs has been updated.'),
          ...(await report(2)),
        ],
        checks: await outcome(),
      };
    }
    return {
      messages: [{ role: 'assistant', content: 'Nothing left to do.' }],
      checks: await outcome(),
      done: true,
    };
  };
}

describe('a Ralph loop that remembers', () => {
  it(
    'names in the third request what the first iteration did: the file it edited, ' +
      'the command and how it ended, the check that failed and then passed',
    async () => {
      const dir = await project();
      const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false });
      const task = loadTask({ id: 'calc', featureId: 'math', title: 'Parse sums', state: 'in_dev' });
      const seen: TaskAgentInput[] = [];
      const loop = await createTaskLoop({ runtime, task, state: 'in_dev', agent: scriptedAgent(dir, seen) });
      // Iterations 1 and 2 are made one by one, so that the loop does not stop when the check passes.
      const first = await loop.iterate();
      const second = await loop.iterate();
      const third = await loop.iterate();
      expect([first.passed, second.passed, third.done]).toEqual([false, true, true]);
      expect(first.checks[0]).toMatchObject({ checkId: 'unit-tests', passed: false });

      const request = seen[2]!.request.systemPrompt;
      if (process.env.SHOW_REQUEST) console.log(request);
      const iterations = /### Iterations \(newest first\)\n((?:- .*\n?)+)/.exec(request)?.[1] ?? '';
      const line1 = iterations.split('\n').find((l) => l.startsWith('- 1: ')) ?? '';
      const line2 = iterations.split('\n').find((l) => l.startsWith('- 2: ')) ?? '';
      // Iteration 1: the file it edited, the command it ran and how it ended, the check that failed.
      expect(line1).toContain('checks failed');
      expect(line1).toContain('failed: unit-tests (2 failed, 4 passed)');
      expect(line1).toContain('edited src/parser.mjs');
      expect(line1).toContain('ran `node check.mjs` → failed (exit 1, 2 failed, 4 passed)');
      // Iteration 2: the same check passes again, and it says since when it failed.
      expect(line2).toContain('every check passes');
      expect(line2).toContain('passes again: unit-tests (failed in iteration 1)');
      expect(line2).toContain('edited src/tokens.mjs');
      expect(line2).toContain('ran `node check.mjs` → ok (6 passed)');
      // The rest of the ledger: files, the command's last run, no open problem, the checks.
      expect(request).toMatch(/### Files \(newest first\)\n- edited: src\/tokens\.mjs, src\/parser\.mjs/);
      expect(request).toMatch(/- `node check\.mjs` → ok .*×2/);
      expect(request).not.toContain('### Open problems');
      expect(request).toContain('- [x] unit-tests');
      // From the checkpoint, not from the messages: none of iteration 1's messages is in the request.
      expect(request).not.toContain('ITER1-PROSE');
      expect(request).not.toContain('## Conversation so far');
      expect(seen[2]!.request.messages).toHaveLength(1);

      // The files and the command were real; every message is in the history.
      expect(await readFile(path.join(dir, 'src/tokens.mjs'), 'utf8')).toContain('match');
      expect((await runtime.getHistory(loop.sessionId)).length).toBe(
        first.messages.length + second.messages.length + third.messages.length,
      );
      // Each clear wrote one checkpoint version holding its iteration.
      const checkpoint = await runtime.getCheckpoint(loop.sessionId);
      expect(checkpoint?.version).toBe(3);
      expect(checkpoint?.ledger?.iterationLog?.map((i) => i.iteration)).toEqual([3, 2, 1]);
      expect(checkpoint?.ledger?.status?.text).toBe(
        'iteration 3: the agent said the work is done (checks: 1 of 1 passed)',
      );
      await runtime.close();
    },
  );
});
