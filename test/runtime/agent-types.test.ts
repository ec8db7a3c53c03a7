/**
 * Sessions that are not only DAGent's: a host registers agent types and task states of its own
 * with `createSessionRuntime({ agents })` and gets sessions for them; DAGent's five and five stay
 * the defaults, and the id rules stay as strict.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { AgentType, DefaultAgentType, SessionKey, TaskState } from '../../src/core/types.js';
import { createTaskLoop } from '../../src/integration/task-loop.js';
import { createSessionClient } from '../../src/ipc/client.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { serveSessions } from '../../src/ipc/http.js';
import type { AgentsOption } from '../../src/runtime/agent-profiles.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { exists, tempRoot } from '../helpers/temp-root.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import path from 'node:path';

const RESEARCHER = {
  description: {
    role: 'Researcher: reads the code base and the web, answers with sources.',
    tools: ['Read', 'WebSearch'],
  },
  limits: { maxTokens: 40_000, compactAt: 0.75 },
  taskStates: ['researching'],
};

const FEATURE: SessionKey = { type: 'feature', agentType: 'researcher', featureId: 'f1' };
const TASK: SessionKey = {
  type: 'task',
  agentType: 'researcher',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'researching',
};

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isSessionError(error)).toBe(true);
  return error as { code: string; message: string };
}

describe('agent types and task states of a host', () => {
  it(
    'are registered with createSessionRuntime({ agents }) ' +
      'and get sessions with their description and limits',
    async () => {
      const root = await tempRoot();
      const runtime = await createSessionRuntime({
        root,
        agents: { researcher: RESEARCHER, dev: { taskStates: ['hotfix'] } },
        compactor: new OfflineCompactor(),
      });
      expect(runtime.agents.types).toEqual(['pm', 'dev', 'qa', 'harness', 'merge', 'researcher']);
      expect({ ...runtime.agents.taskStates }).toEqual({
        planning: 'pm',
        in_dev: 'dev',
        in_qa: 'qa',
        in_review: 'harness',
        merging: 'merge',
        hotfix: 'dev',
        researching: 'researcher',
      });

      const feature = await runtime.createSession(FEATURE);
      const task = await runtime.createSession(TASK);
      expect(feature.id).toBe('feature--f1--researcher');
      expect(task.id).toBe('task--f1--t1--researching--researcher');
      expect(task.key).toEqual(TASK);
      expect(task.limits).toMatchObject({ maxTokens: 40_000, compactAt: 0.75, keepRecentTokens: 8_000 });
      expect(await runtime.getAgentDescription(task.id)).toEqual(RESEARCHER.description);
      const hotfix = await runtime.createSession({ ...TASK, agentType: 'dev', taskState: 'hotfix' });
      expect(hotfix.limits.maxTokens).toBe(100_000);

      // It is a session like any other: appends, requests, compaction at its own threshold.
      for (let i = 0; i < 40; i++)
        await runtime.addMessage(task.id, {
          role: i % 2 === 0 ? 'user' : 'assistant',
          content: `finding ${i}: ${'the parser lives in src/parse.ts and uses recursive descent. '.repeat(70)}`,
        });
      const request = await runtime.buildRequest(task.id, 'What did you find?');
      expect(request.systemPrompt).toContain('Researcher: reads the code base');
      expect(request.totalTokens).toBeLessThanOrEqual(40_000);
      expect((await runtime.getSession(task.id)).stats.totalCompactions).toBeGreaterThan(0);
      expect(await runtime.getHistory(task.id)).toHaveLength(40);
      expect((await runtime.listSessions()).map((s) => s.id).sort()).toEqual(
        [feature.id, hotfix.id, task.id].sort(),
      );
      await runtime.close();

      // A runtime that does not register it still opens and reads its sessions (with its own limits)...
      const reader = await createSessionRuntime({ root, readOnly: true });
      expect(await reader.getHistory(task.id)).toHaveLength(40);
      expect((await reader.getSession(task.id)).limits.maxTokens).toBe(100_000);
      await reader.close();
      // ...but creates none: a type it does not know is a typo until registered.
      const plain = await createSessionRuntime({ root });
      const refused = await codeOf(plain.createSession({ ...FEATURE, featureId: 'f2' }));
      expect(refused.code).toBe('INVALID_KEY');
      expect(refused.message).toMatch(/agent type "researcher" is not registered with this runtime/);
      expect(refused.message).toMatch(/createSessionRuntime\(\{ agents: \{ researcher: /);
      await plain.close();
    },
  );

  it('refuses keys of unregistered types and states, writing nothing', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, agents: { researcher: RESEARCHER } });
    const cases: [SessionKey, RegExp][] = [
      [{ ...FEATURE, agentType: 'reseacher' }, /agent type "reseacher" is not registered/],
      [{ ...TASK, taskState: 'reviewing' }, /task state "reviewing" is not registered.*researching/],
      [{ ...TASK, agentType: 'dev', taskState: 'merged' }, /task state "merged" is not registered/],
    ];
    for (const [key, message] of cases) {
      const error = await codeOf(runtime.createSession(key));
      expect(error.code).toBe('INVALID_KEY');
      expect(error.message).toMatch(message);
    }
    expect(await runtime.listSessions()).toEqual([]);
    expect(await exists(path.join(root, '.dagent', 'sessions', 'feature--f1--reseacher'))).toBe(false);
    await runtime.close();
  });

  it('keep the id rules as strict: unsafe names are refused, registered or not', async () => {
    const root = await tempRoot();
    for (const name of ['../x', 'a/b', 'a--b', '__proto__', 'constructor', '', 'a b', '-x', 'x-']) {
      const error = await codeOf(
        createSessionRuntime({ root, agents: { [name]: RESEARCHER } as AgentsOption }),
      );
      expect(error.code, name).toBe('INVALID_ARGUMENT');
      expect(error.message, name).toMatch(/createSessionRuntime: agents: agent type/);
      const state = await codeOf(
        createSessionRuntime({ root, agents: { researcher: { ...RESEARCHER, taskStates: [name] } } }),
      );
      expect(state.message, name).toMatch(/researcher\.taskStates/);
    }
    const runtime = await createSessionRuntime({ root, agents: { researcher: RESEARCHER } });
    for (const key of [
      { ...FEATURE, agentType: '../researcher' },
      { ...TASK, taskState: 'a--b' },
      { ...TASK, taskState: '__proto__' },
      { ...FEATURE, featureId: '..' },
    ]) {
      expect((await codeOf(runtime.createSession(key as SessionKey))).code).toBe('INVALID_KEY');
    }
    expect(await runtime.listSessions()).toEqual([]);
    await runtime.close();
  });

  it('refuse registrations that cannot work, saying what to write', async () => {
    const root = await tempRoot();
    const cases: [unknown, RegExp][] = [
      [{ researcher: {} }, /researcher is an agent type of your own: give it a description/],
      [{ researcher: { description: { role: '' } } }, /researcher\.description needs a non-empty "role"/],
      [{ researcher: { ...RESEARCHER, taskStates: ['in_dev'] } }, /"in_dev" is served by dev already/],
      [
        { researcher: RESEARCHER, reviewer: { ...RESEARCHER, taskStates: ['researching'] } },
        /"researching" is served by researcher already/,
      ],
      [
        { researcher: { ...RESEARCHER, tools: [] } },
        /researcher: "tools" is not an option; the options are description, limits, taskStates, featureLevel/,
      ],
      [
        { researcher: { ...RESEARCHER, limits: { maxTokens: -1 } } },
        /researcher\.limits: limits\.maxTokens must be a positive integer/,
      ],
      [{ researcher: 'yes' }, /researcher must be an object/],
      [['researcher'], /must be an object keyed by agent type/],
    ];
    for (const [agents, message] of cases) {
      const error = await codeOf(createSessionRuntime({ root, agents: agents as AgentsOption }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(message);
    }
    // A name set to undefined is let be, as in every options object (hosts spread conditionally).
    const runtime = await createSessionRuntime({
      root,
      agents: { researcher: { ...RESEARCHER, limts: undefined } } as AgentsOption,
    });
    expect(runtime.agents.types).toContain('researcher');
    await runtime.close();
  });

  it("route a host's task state to its agent in a task loop", async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, agents: { researcher: RESEARCHER } });
    const loop = await createTaskLoop({
      runtime,
      task: { id: 't1', featureId: 'f1', title: 'Find the parser', state: 'researching' },
      state: 'researching',
      agent: async () => ({
        messages: [{ role: 'assistant', content: 'src/parse.ts' }],
        checks: [],
        done: true,
      }),
    });
    expect(loop.sessionId).toBe('task--f1--t1--researching--researcher');
    expect((await loop.run()).outcome).toBe('done');
    expect(loop.task.sessions).toEqual({ researching: [loop.sessionId] });
    await runtime.close();
  });

  it("reach a host over IPC and HTTP like DAGent's own", async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, agents: { researcher: RESEARCHER } });
    const handlers = createSessionHandlers(runtime);
    const created = await handlers['session:create'](TASK);
    expect(created).toMatchObject({ ok: true, value: { id: 'task--f1--t1--researching--researcher' } });
    expect(await handlers['session:create']({ ...TASK, agentType: 'reviewer' })).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_KEY',
        message: expect.stringMatching(/agent type "reviewer" is not registered/),
      },
    });
    const server = await serveSessions(runtime);
    const client = createSessionClient(server.url);
    await client.addMessage('task--f1--t1--researching--researcher', {
      role: 'user',
      content: 'Where is the parser?',
    });
    expect((await client.getAgentDescription('task--f1--t1--researching--researcher'))?.role).toMatch(
      /^Researcher/,
    );
    expect((await client.getRuntimeMetrics()).sessions.byAgentType).toEqual({ researcher: 1 });
    await server.close();
    await runtime.close();
  });

  it('keep the default names a literal union for autocompletion while taking any string', () => {
    expectTypeOf<DefaultAgentType>().toEqualTypeOf<'pm' | 'dev' | 'qa' | 'harness' | 'merge'>();
    expectTypeOf<'researcher'>().toExtend<AgentType>();
    expectTypeOf<'researching'>().toExtend<TaskState>();
    expectTypeOf<AgentsOption>().toHaveProperty('pm');
    const agents: AgentsOption = { pm: { limits: { compactAt: 0.7 } }, researcher: RESEARCHER };
    expect(Object.keys(agents)).toEqual(['pm', 'researcher']);
  });
});
