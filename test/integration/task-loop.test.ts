import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { contentToText } from '../../src/request/format.js';
import { createTaskLoop, type TaskAgent, type TaskAgentInput } from '../../src/integration/task-loop.js';
import { loadTask, type DagTask } from '../../src/integration/task.js';
import { createSessionRuntime, type SessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const TASK: DagTask = loadTask({
  id: 'parser',
  featureId: 'calc',
  title: 'Write the parser',
  state: 'in_dev',
  plan: ['tokens', 'tree'],
});

async function open(): Promise<SessionRuntime> {
  return createSessionRuntime({ root: await tempRoot(), durable: false });
}

/** Iteration 1 fails `unit-tests`, later ones pass; every message carries a unique marker. */
function devAgent(seen: TaskAgentInput[]): TaskAgent {
  return async (input) => {
    seen.push(input);
    const n = input.iteration;
    return {
      messages: [
        { role: 'assistant', content: `MARK-${n}-a: edited src/parser.ts, ran npm test` },
        { role: 'user', content: `MARK-${n}-b: ${n === 1 ? '2 tests failing' : 'all green'}` },
      ],
      checks: [
        { checkId: 'typecheck', passed: true },
        {
          checkId: 'unit-tests',
          passed: n > 1,
          ...(n === 1 ? { error: '2 failing in parser.test.ts' } : {}),
        },
      ],
    };
  };
}

describe('createTaskLoop', () => {
  it('builds a fresh request per iteration, records checks, clears live messages and keeps history', async () => {
    const runtime = await open();
    const seen: TaskAgentInput[] = [];
    const loop = await createTaskLoop({ runtime, task: TASK, state: 'in_dev', agent: devAgent(seen) });
    expect(loop.sessionId).toBe('task--calc--parser--in_dev--dev');
    expect(loop.agentType).toBe('dev');
    expect(loop.task.sessions).toEqual({ in_dev: [loop.sessionId] });
    expect(loop.task.currentSession).toBe(loop.sessionId);
    expect(TASK.sessions).toBeUndefined();
    expect(await runtime.getContext(loop.sessionId)).toMatchObject({
      taskTitle: 'Write the parser',
      taskState: 'in_dev',
      plan: ['tokens', 'tree'],
    });

    const result = await loop.run();
    expect(result.outcome).toBe('checks-passed');
    expect(result.iterations.map((i) => i.iteration)).toEqual([1, 2]);
    expect(result.iterations.map((i) => i.checks.map((c) => [c.checkId, c.passed]))).toEqual([
      [
        ['typecheck', true],
        ['unit-tests', false],
      ],
      [
        ['typecheck', true],
        ['unit-tests', true],
      ],
    ]);
    expect(result.iterations.every((i) => i.checks.every((c) => typeof c.at === 'string'))).toBe(true);
    expect(result.iterations[0]!.checks[1]!.error).toBe('2 failing in parser.test.ts');
    expect(result.passed).toBe(true);

    // Iteration 2 starts from description + context + checkpoint: iteration 1's failure and outcome
    // are there, its messages are not (the assistant's prose is never copied; a user's words are a request).
    const second = seen[1]!.request;
    expect(second.systemPrompt).toContain('- [ ] unit-tests: 2 failing in parser.test.ts');
    expect(second.systemPrompt).toContain(
      '### Iterations (newest first)\n- 1: checks failed · failed: unit-tests (2 failing in ' +
        'parser.test.ts) · passed: typecheck',
    );
    expect(second.systemPrompt).not.toContain('MARK-1-a');
    expect(second.systemPrompt).not.toContain('Iteration 1 of task'); // the loop's prompt is not a request
    expect(second.systemPrompt).toContain(
      '### User requests and corrections (newest first, verbatim)\n- MARK-1-b',
    );
    expect(JSON.stringify(second.messages)).not.toContain('MARK-1');
    expect(second.messages).toHaveLength(1);
    expect(second.systemPrompt).toContain('Developer agent');

    expect(await runtime.getMessages(loop.sessionId)).toEqual([]);
    const history = await runtime.getHistory(loop.sessionId);
    const appended = result.iterations.flatMap((i) => i.messages);
    expect(history.map((m) => m.id)).toEqual(appended.map((m) => m.id));
    expect(
      history.map((m) => contentToText(m.content).slice(0, 8)).filter((t) => t.startsWith('MARK')),
    ).toEqual(['MARK-1-a', 'MARK-1-b', 'MARK-2-a', 'MARK-2-b']);
    expect(history[0]!.metadata).toEqual({
      taskLoop: { taskId: 'parser', state: 'in_dev', iteration: 1 },
      harness: true,
    });
    expect((await runtime.getCheckpoint(loop.sessionId))!.checks!.map((c) => [c.checkId, c.passed])).toEqual([
      ['typecheck', true],
      ['unit-tests', true],
    ]);
    await runtime.close();
  });

  it('stops when the agent says done, even with failing checks', async () => {
    const runtime = await open();
    const loop = await createTaskLoop({
      runtime,
      task: TASK,
      state: 'in_qa',
      agent: async () => ({
        messages: [{ role: 'assistant', content: 'Found a bug; handing back.' }],
        checks: [{ checkId: 'acceptance', passed: false, error: 'divides by zero' }],
        done: true,
      }),
    });
    const result = await loop.run();
    expect(result).toMatchObject({
      outcome: 'done',
      passed: false,
      agentType: 'qa',
      sessionId: 'task--calc--parser--in_qa--qa',
    });
    expect(result.iterations).toHaveLength(1);
    await runtime.close();
  });

  it('records an agent failure as a failed check, keeps what was appended, and stops with a clear result', async () => {
    const runtime = await open();
    let calls = 0;
    const agent: TaskAgent = async () => {
      calls++;
      if (calls === 2) throw new Error('model overloaded');
      if (calls === 3) return { messages: 'nope' } as never;
      return {
        messages: [{ role: 'assistant', content: `work ${calls}` }],
        checks: [{ checkId: 'tests', passed: false, error: 'red' }],
      };
    };
    const loop = await createTaskLoop({ runtime, task: TASK, state: 'in_dev', agent });
    const result = await loop.run();
    expect(result.outcome).toBe('agent-error');
    expect(result.error?.message).toBe('model overloaded');
    expect(result.iterations).toHaveLength(2);
    expect(result.iterations[1]!.checks).toMatchObject([
      { checkId: 'agent', passed: false, error: 'model overloaded' },
    ]);
    expect(result.checks.map((c) => [c.checkId, c.passed])).toEqual([
      ['tests', false],
      ['agent', false],
    ]);
    // The prompt of the failed iteration is in history; live messages are cleared.
    expect(await runtime.getMessages(loop.sessionId)).toEqual([]);
    expect(await runtime.getHistory(loop.sessionId)).toHaveLength(3);

    const malformed = await loop.iterate();
    expect(malformed.error?.message).toMatch(/no messages list/);
    // A later good iteration marks the agent check as passing again.
    const good = await loop.iterate();
    expect(good.error).toBeNull();
    expect(good.checks.map((c) => [c.checkId, c.passed])).toEqual([
      ['tests', false],
      ['agent', true],
    ]);
    expect(loop.iterations).toBe(4);
    await runtime.close();
  });

  it('stops at maxIterations and refuses bad options', async () => {
    const runtime = await open();
    const agent: TaskAgent = async ({ iteration }) => ({
      messages: [{ role: 'assistant', content: `try ${iteration}` }],
      checks: [{ checkId: 'build', passed: false, error: 'still red' }],
    });
    const loop = await createTaskLoop({ runtime, task: TASK, state: 'in_dev', agent, maxIterations: 3 });
    const result = await loop.run();
    expect(result.outcome).toBe('max-iterations');
    expect(result.iterations).toHaveLength(3);
    expect((await loop.run()).iterations).toHaveLength(0);
    for (const bad of [0, 1.5, -1]) {
      const error = await createTaskLoop({
        runtime,
        task: TASK,
        state: 'in_dev',
        agent,
        maxIterations: bad,
      }).catch((e: unknown) => e);
      expect(isSessionError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    const state = await createTaskLoop({ runtime, task: TASK, state: 'merged', agent }).catch(
      (e: unknown) => e,
    );
    expect((state as Error).message).toMatch(/"merged" is not one of DAGent's states with sessions/);
    await runtime.close();
  });

  it(
    'runs queued iterations one at a time, archives leftovers first, ' +
      'and refreshes the context of a reopened session',
    async () => {
      const runtime = await open();
      const live: number[] = [];
      const agent: TaskAgent = async ({ sessionId, iteration }) => {
        live.push((await runtime.getMessages(sessionId)).length);
        await new Promise((r) => setTimeout(r, 5));
        return { messages: [{ role: 'assistant', content: `review ${iteration}` }], checks: [] };
      };
      const loop = await createTaskLoop({
        runtime,
        task: TASK,
        state: 'in_dev',
        agentType: 'harness',
        agent,
      });
      expect(loop.sessionId).toBe('task--calc--parser--in_dev--harness');
      await runtime.addMessage(loop.sessionId, { role: 'user', content: 'left over from a crash' });
      const [a, b] = await Promise.all([loop.iterate(), loop.iterate()]);
      expect([a.iteration, b.iteration]).toEqual([1, 2]);
      expect(live).toEqual([1, 1]); // only its own prompt: leftovers were archived, iterations never overlapped
      expect(a.passed).toBe(false); // no checks at all is not a pass
      expect(await runtime.getHistory(loop.sessionId)).toHaveLength(5);

      const changed = { ...TASK, title: 'Write the Pratt parser' };
      const again = await createTaskLoop({
        runtime,
        task: changed,
        state: 'in_dev',
        agentType: 'harness',
        agent,
      });
      expect(again.sessionId).toBe(loop.sessionId);
      expect((await runtime.getContext(again.sessionId))?.taskTitle).toBe('Write the Pratt parser');
      await runtime.close();
    },
  );
});
