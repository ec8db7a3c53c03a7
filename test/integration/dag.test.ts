/**
 * Plays a small DAG the way the DAG engine's task controller would: three tasks of one feature
 * (B and C depend on A), each through planning, in_dev, in_qa, in_review and merging to merged,
 * with a scripted agent, while the feature-level PM conversation grows past a small limit and
 * compacts. Real runtime on a temporary root, offline compactor.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult, Message, TaskState } from '../../src/core/types.js';
import { contentToText } from '../../src/request/format.js';
import { createTaskLoop, type IterationResult, type TaskAgent } from '../../src/integration/task-loop.js';
import { loadTask, type DagTask } from '../../src/integration/task.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { settle } from '../helpers/settle.js';
import { tempRoot } from '../helpers/temp-root.js';

const FEATURE = 'calc';
const STATES: TaskState[] = ['planning', 'in_dev', 'in_qa', 'in_review', 'merging'];
const FILES: Record<string, string> = { lexer: 'src/lexer.ts', parser: 'src/parser.ts', cli: 'src/cli.ts' };

/** Deterministic work per state; in_dev fails its unit tests on the first iteration. */
const scripted: TaskAgent = async ({ task, state, iteration }) => {
  const file = FILES[task.id] ?? 'src/index.ts';
  const mark = `[${task.id}/${state}/${iteration}]`;
  const say = (text: string) => ({ role: 'assistant' as const, content: `${mark} ${text}` });
  const tool = (id: string, command: string, output: string) => [
    {
      role: 'assistant' as const,
      content: [{ type: 'tool_use' as const, id, name: 'Bash', input: { command } }],
    },
    {
      role: 'user' as const,
      content: [{ type: 'tool_result' as const, tool_use_id: id, content: `${mark} ${output}` }],
    },
  ];
  const id = `toolu_${task.id}_${state}_${iteration}`;
  switch (state) {
    case 'planning':
      return {
        messages: [
          say(
            `Plan for ${task.title}: ` +
              `create ${file} and ${file.replace('src/', 'test/').replace('.ts', '.test.ts')}. ` +
              `Decision: no runtime dependencies.`,
          ),
        ],
        checks: [{ checkId: 'plan-approved', passed: true }],
        done: true,
      };
    case 'in_dev': {
      const red = iteration === 1;
      return {
        messages: [
          say(`Edited ${file}.`),
          ...tool(id, 'npm test', red ? `FAIL test/${task.id}.test.ts: 2 failing` : 'PASS 12 tests'),
          say(red ? 'Tests fail; fixing next iteration.' : 'All tests pass.'),
        ],
        checks: [
          { checkId: 'typecheck', passed: true },
          {
            checkId: 'unit-tests',
            passed: !red,
            ...(red ? { error: `2 failing in test/${task.id}.test.ts` } : {}),
          },
        ],
      };
    }
    case 'in_qa':
      return {
        messages: [...tool(id, `node ${file} "1+2*3"`, '7'), say('Acceptance criteria met.')],
        checks: [{ checkId: 'acceptance', passed: true }],
      };
    case 'in_review':
      return {
        messages: [say(`Reviewed ${file} against the plan: approved.`)],
        checks: [{ checkId: 'within-plan', passed: true }],
      };
    default:
      return {
        messages: [...tool(id, `git merge --no-ff task/${task.id}`, 'Merge made; build green')],
        checks: [{ checkId: 'build-green', passed: true }],
      };
  }
};

describe('a small DAG through every task state', () => {
  it(
    'keeps one session per task state, every check and message, ' +
      'and compacts the PM conversation on the way',
    async () => {
      const runtime = await createSessionRuntime({
        root: await tempRoot(),
        durable: false,
        agents: { pm: { limits: { maxTokens: 6_000 } } },
      });
      const events: SessionEvent[] = [];
      runtime.subscribe((e) => events.push(e));
      let tasks: DagTask[] = [
        loadTask({
          id: 'lexer',
          featureId: FEATURE,
          title: 'Tokenise expressions',
          state: 'ready',
          dependencies: [],
        }),
        loadTask({
          id: 'parser',
          featureId: FEATURE,
          title: 'Parse into a tree',
          state: 'blocked',
          dependencies: ['lexer'],
        }),
        loadTask({
          id: 'cli',
          featureId: FEATURE,
          title: 'Evaluate from the command line',
          state: 'blocked',
          dependencies: ['lexer'],
        }),
      ];
      const dag = () => ({
        featureName: 'Calculator',
        featureGoal: 'Evaluate arithmetic expressions',
        tasks,
      });
      const update = (next: DagTask) => (tasks = tasks.map((t) => (t.id === next.id ? next : t)));

      // The feature-level PM conversation, appended to as the DAG moves.
      const pm = await runtime.createSession(
        { type: 'feature', agentType: 'pm', featureId: FEATURE },
        { context: { featureName: 'Calculator' } },
      );
      const pmAppended: Message[] = [];
      const discuss = async (topic: string) => {
        await runtime.buildRequest(pm.id, `Status of ${topic}?`); // as the PM agent would before its turn
        pmAppended.push(
          await runtime.addMessage(pm.id, {
            role: 'user',
            content: `Harness: ${topic}. ${'Where does this leave the DAG and which task is next? '.repeat(45)}`,
          }),
        );
        pmAppended.push(
          await runtime.addMessage(pm.id, {
            role: 'assistant',
            content:
              `PM: noted ${topic}. Decision: keep ${topic} within the ` +
              `plan. ${'The DAG stays lexer first, then parser and cli in parallel. '.repeat(45)}`,
          }),
        );
      };

      const requests: { sessionId: string; iteration: number; text: string }[] = [];
      const agent: TaskAgent = (input) => {
        requests.push({
          sessionId: input.sessionId,
          iteration: input.iteration,
          text: input.request.systemPrompt + JSON.stringify(input.request.messages),
        });
        return scripted(input);
      };
      const results = new Map<string, IterationResult[]>();
      const currents: string[] = [];
      const advance = async (taskId: string, state: TaskState) => {
        const task = { ...tasks.find((t) => t.id === taskId)!, state };
        update(task);
        const loop = await createTaskLoop({ runtime, task, state, agent, dag: dag(), maxIterations: 3 });
        const result = await loop.run();
        expect(result.outcome === 'done' || result.outcome === 'checks-passed').toBe(true);
        results.set(loop.sessionId, result.iterations);
        let next = loop.task;
        // The engine keeps the plan the PM wrote, for the later states' contexts.
        if (state === 'planning')
          next = { ...next, plan: contentToText(result.iterations[0]!.messages[1]!.content) };
        update(next);
        currents.push(`${taskId}:${next.currentSession}`);
      };

      for (const state of STATES) {
        await advance('lexer', state);
        await discuss(`lexer ${state} done`);
      }
      update({ ...tasks[0]!, state: 'merged' });
      for (const state of STATES) {
        await Promise.all([advance('parser', state), advance('cli', state)]);
        await discuss(`parser and cli ${state} done`);
      }
      for (const t of tasks.slice(1)) update({ ...t, state: 'merged' });
      await settle(runtime, pm.id);

      // One session per task state: 3 tasks x 5 states, ids distinct, recorded on the tasks.
      expect(tasks.map((t) => t.state)).toEqual(['merged', 'merged', 'merged']);
      const ids = tasks.flatMap((t) => STATES.map((s) => t.sessions?.[s]?.[0]));
      expect(ids.every((id) => typeof id === 'string')).toBe(true);
      expect(new Set(ids).size).toBe(15);
      for (const t of tasks) {
        expect(t.sessions).toEqual(
          Object.fromEntries(
            STATES.map((s) => [s, [expect.stringMatching(new RegExp(`^task--${FEATURE}--${t.id}--${s}--`))]]),
          ),
        );
        expect(t.currentSession).toBe(t.sessions?.merging?.[0]);
        expect(currents.filter((c) => c.startsWith(`${t.id}:`))).toEqual(
          STATES.map((s) => `${t.id}:${t.sessions?.[s]?.[0]}`),
        );
      }
      expect(tasks[1]!.sessions?.in_review).toEqual(['task--calc--parser--in_review--harness']);
      expect(await runtime.getContext(tasks[1]!.sessions!.in_dev![0]!)).toMatchObject({
        taskState: 'in_dev',
        plan: expect.stringContaining('Plan for Parse into a tree'),
        dependencies: ['lexer "Tokenise expressions" [merged]'],
      });

      let taskMessages = 0;
      let checksRecorded = 0;
      for (const id of ids as string[]) {
        const iterations = results.get(id)!;
        // The checks of every iteration: in_dev failed once, then passed; the checkpoint holds the latest of each.
        const perIteration = iterations.map((i) => i.checks.map((c) => `${c.checkId}:${c.passed}`));
        if (id.includes('--in_dev--'))
          expect(perIteration).toEqual([
            ['typecheck:true', 'unit-tests:false'],
            ['typecheck:true', 'unit-tests:true'],
          ]);
        else expect(iterations).toHaveLength(1);
        const latest = new Map<string, CheckResult>();
        for (const c of iterations.flatMap((i) => i.checks)) latest.set(c.checkId, c);
        expect((await runtime.getCheckpoint(id))!.checks).toEqual([...latest.values()]);
        checksRecorded += iterations.reduce((n, i) => n + i.checks.length, 0);
        // Each request was fresh: it held no message of an earlier iteration of its session (the
        // agent's prose is never copied), only the facts the ledger recorded (a failing run's line).
        const [, , taskId, state] = id.split('--');
        for (const r of requests.filter((q) => q.sessionId === id && q.iteration > 1)) {
          expect(r.text).not.toMatch(new RegExp(`\\[${taskId}/${state}/1\\] (?:Edited|Tests fail|Plan for)`));
          expect(r.text).not.toContain('## Conversation so far');
          expect(r.text).toContain('### Iterations (newest first)\n- 1: ');
        }
        for (const i of iterations) expect(i.cleared.archivedMessages).toBe(i.messages.length);
        // Every message appended is in history, in order; nothing stays live.
        const appended = iterations.flatMap((i) => i.messages);
        expect((await runtime.getHistory(id)).map((m) => m.id)).toEqual(appended.map((m) => m.id));
        expect(await runtime.getMessages(id)).toEqual([]);
        taskMessages += appended.length;
      }

      // The PM conversation compacted at least once, and kept every message.
      const compactions = events.filter(
        (e) => e.type === 'session.compaction.completed' && e.sessionId === pm.id,
      );
      expect(compactions.length).toBeGreaterThanOrEqual(1);
      // On the way: the first one completed while the tasks were still being worked on.
      const firstCompaction = events.findIndex(
        (e) => e.type === 'session.compaction.completed' && e.sessionId === pm.id,
      );
      const lastTaskAppend = events.findLastIndex(
        (e) => e.type === 'session.message.appended' && e.sessionId.startsWith('task--'),
      );
      expect(firstCompaction).toBeLessThan(lastTaskAppend);
      expect((await runtime.getCheckpoint(pm.id))!.version).toBe(compactions.length);
      expect((await runtime.getHistory(pm.id)).map((m) => m.id)).toEqual(pmAppended.map((m) => m.id));
      expect((await runtime.getMessages(pm.id)).length).toBeLessThan(pmAppended.length);

      console.log(
        `[dag] ${ids.length} task sessions, ${taskMessages} task messages, ${checksRecorded} ` +
          `checks recorded, PM: ${pmAppended.length} messages, ${compactions.length} compaction(s)`,
      );
      await runtime.close();
    },
  );
});
