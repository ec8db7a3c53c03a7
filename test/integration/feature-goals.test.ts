/**
 * The PM planning session starts with a checkpoint holding the feature's goals (seed 4.1): from
 * the task loop of the planning state, and from a feature's PM session as DAGent's flow opens it.
 * The goals come from the feature (DagView `featureGoals`, or the lines of `featureGoal`), or are
 * given.
 */
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { createFeatureSession } from '../../src/integration/feature-session.js';
import { createTaskLoop, type TaskAgentInput } from '../../src/integration/task-loop.js';
import { loadTask } from '../../src/integration/task.js';
import { featureGoalsOf, type DagView } from '../../src/integration/task-context.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const DAG: DagView = {
  featureName: 'Export',
  featureGoal:
    "- Export the checkout report as CSV\n- Keep today's columns\n\n2. Finance can open it in Excel",
};
const TASK = loadTask({ id: 'plan', featureId: 'export', title: 'Plan the export', state: 'planning' });

describe("the feature's goals", () => {
  it('are read from featureGoals, or from the lines of featureGoal', () => {
    expect(featureGoalsOf(DAG)).toEqual([
      'Export the checkout report as CSV',
      "Keep today's columns",
      'Finance can open it in Excel',
    ]);
    expect(featureGoalsOf({ featureGoal: 'One goal', featureGoals: ['A', ' ', 'B'] })).toEqual(['A', 'B']);
    expect(featureGoalsOf({})).toEqual([]);
  });

  it('start the planning session: its first request holds them, and every later one keeps them', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const seen: TaskAgentInput[] = [];
    const loop = await createTaskLoop({
      runtime,
      task: TASK,
      state: 'planning',
      dag: DAG,
      maxIterations: 2,
      agent: async (input) => {
        seen.push(input);
        return { messages: [{ role: 'assistant', content: 'Two tasks: writer, button.' }], checks: [] };
      },
    });
    expect(loop.agentType).toBe('pm');
    const start = await runtime.getCheckpoint(loop.sessionId);
    expect(start).toMatchObject({
      version: 0,
      summary: { goals: featureGoalsOf(DAG) },
      compactionInfo: { compactor: 'initial' },
    });
    await loop.run();
    const goals =
      "### Goals\n- Export the checkout report as CSV\n- Keep today's columns\n- Finance can open it in Excel";
    expect(seen.map((s) => s.request.systemPrompt.includes(goals))).toEqual([true, true]);
    expect((await runtime.getCheckpoint(loop.sessionId))?.summary.goals).toEqual(featureGoalsOf(DAG));

    // Another state's session gets the goal in its context only; goals given explicitly win.
    const dev = await createTaskLoop({
      runtime,
      task: { ...TASK, id: 'writer', state: 'in_dev' },
      state: 'in_dev',
      dag: DAG,
      agent: async () => ({ messages: [], checks: [] }),
    });
    expect(await runtime.getCheckpoint(dev.sessionId)).toBeNull();
    const qa = await createTaskLoop({
      runtime,
      task: { ...TASK, id: 'writer', state: 'in_qa' },
      state: 'in_qa',
      goals: ['The CSV opens in Excel'],
      agent: async () => ({ messages: [], checks: [] }),
    });
    expect((await runtime.getCheckpoint(qa.sessionId))?.summary.goals).toEqual(['The CSV opens in Excel']);
    const bad = await createTaskLoop({
      runtime,
      task: TASK,
      state: 'planning',
      goals: [3] as never,
      agent: async () => ({ messages: [], checks: [] }),
    }).catch((e: unknown) => e);
    expect(isSessionError(bad, 'INVALID_ARGUMENT')).toBe(true);
    await runtime.close();
  });

  it(
    "start a feature's PM session, with the feature in " +
      'its context; a session that exists is left as it is',
    async () => {
      const runtime = await createSessionRuntime({ root: await tempRoot() });
      const pm = await createFeatureSession({
        runtime,
        featureId: 'export',
        dag: { ...DAG, tasks: [TASK], projectNotes: 'Monorepo; pnpm.' },
      });
      expect(pm.id).toBe('feature--export--pm');
      expect(await runtime.getContext(pm.id)).toEqual({
        featureName: 'Export',
        featureGoal: DAG.featureGoal,
        dagSummary: '1 task:\n- plan "Plan the export" [planning]',
        projectNotes: 'Monorepo; pnpm.',
      });
      expect((await runtime.getCheckpoint(pm.id))?.summary.goals).toEqual(featureGoalsOf(DAG));
      const request = await runtime.buildRequest(pm.id, 'Plan it.');
      expect(request.systemPrompt).toContain(
        '## Checkpoint\n\n### Goals\n- Export the checkout report as CSV',
      );

      await runtime.editCheckpoint(pm.id, { summary: { goals: ['Export as CSV and XLSX'] } });
      await createFeatureSession({ runtime, featureId: 'export', goals: ['something else'] });
      expect((await runtime.getCheckpoint(pm.id))?.summary.goals).toEqual(['Export as CSV and XLSX']);

      const only = await createFeatureSession({
        runtime,
        featureId: 'search',
        dag: { featureGoals: ['Full-text search'] },
      });
      expect(await runtime.getContext(only.id)).toEqual({ featureGoal: '- Full-text search' });
      const none = await createFeatureSession({ runtime, featureId: 'misc' });
      expect(await runtime.getCheckpoint(none.id)).toBeNull();
      await runtime.close();
    },
  );
});
