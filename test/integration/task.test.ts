import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { TASK_STATES } from '../../src/core/types.js';
import {
  loadTask,
  summarizeDag,
  taskContext,
  withSession,
  type DagTask,
} from '../../src/integration/task.js';
import { DEFAULT_AGENT_PROFILES, agentForTaskState } from '../../src/runtime/agent-profiles.js';

const OLD = {
  id: 'parser',
  featureId: 'f1',
  title: 'Write the parser',
  state: 'ready',
  dependencies: [],
  priority: 3,
  owner: { name: 'ada' },
};

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(isSessionError(error)).toBe(true);
    return error as { code: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('loadTask', () => {
  it('loads an old task without sessions, keeping unknown fields', () => {
    const task = loadTask(OLD);
    expect(task).toEqual(OLD);
    expect(task.sessions).toBeUndefined();
    expect(task.currentSession).toBeUndefined();
    expect(task).not.toBe(OLD);
    expect(task.owner).not.toBe(OLD.owner);
  });

  it('parses JSON text and treats null sessions as absent', () => {
    const task = loadTask(JSON.stringify({ ...OLD, sessions: null, currentSession: null, plan: null }));
    expect(task).toEqual(OLD);
    expect('sessions' in task).toBe(false);
  });

  it('loads a task with sessions, plan and dependents', () => {
    const input = {
      ...OLD,
      state: 'in_dev',
      plan: ['tokenise', 'parse'],
      dependents: ['cli'],
      sessions: { planning: 'task--f1--parser--planning--pm', in_dev: 'task--f1--parser--in_dev--dev' },
      currentSession: 'task--f1--parser--in_dev--dev',
    };
    expect(loadTask(input)).toEqual(input);
  });

  it.each([
    ['{"id": "x"', /not valid JSON/],
    [null, /must be an object/],
    [[OLD], /must be an object/],
    [{ ...OLD, id: undefined }, /task id must be a non-empty string/],
    [{ ...OLD, id: 'a/b' }, /task id "a\/b" may only contain/],
    [{ ...OLD, featureId: '..' }, /featureId "\.\." is a reserved name/],
    [{ ...OLD, id: 'a--b' }, /must not contain "--"/],
    [{ ...OLD, title: '' }, /task "parser": title must be a non-empty string/],
    [{ ...OLD, state: 3 }, /task "parser": state must be a non-empty string/],
    [{ ...OLD, dependencies: 'lexer' }, /dependencies must be a list of task ids/],
    [{ ...OLD, dependents: [1] }, /dependents must be a list/],
    [{ ...OLD, plan: { steps: 1 } }, /plan must be a string or a list of strings/],
    [{ ...OLD, sessions: ['x'] }, /sessions must be an object/],
    [
      { ...OLD, sessions: { merged: 'x' } },
      /sessions has the state "merged"; the states with sessions are planning/,
    ],
    [{ ...OLD, sessions: { in_dev: 7 } }, /sessions\.in_dev must be a session id/],
    [{ ...OLD, currentSession: 7 }, /currentSession must be a string/],
  ])('refuses %j with a clear error', (input, message) => {
    const error = errorOf(() => loadTask(input));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/loadTask: /);
    expect(error.message).toMatch(message);
  });
});

describe('withSession', () => {
  it('returns a new task with sessions[state] and currentSession, leaving the input untouched', () => {
    const task = loadTask(OLD);
    const frozen = Object.freeze({ ...task });
    const a = withSession(frozen, 'planning', 'task--f1--parser--planning--pm');
    const b = withSession(a, 'in_dev', 'task--f1--parser--in_dev--dev');
    expect(frozen.sessions).toBeUndefined();
    expect(a.sessions).toEqual({ planning: 'task--f1--parser--planning--pm' });
    expect(a.currentSession).toBe('task--f1--parser--planning--pm');
    expect(b.sessions).toEqual({
      planning: 'task--f1--parser--planning--pm',
      in_dev: 'task--f1--parser--in_dev--dev',
    });
    expect(b.currentSession).toBe('task--f1--parser--in_dev--dev');
    expect(b.sessions).not.toBe(a.sessions);
    expect(b.priority).toBe(3);
  });

  it('refuses a state without sessions and an unsafe id', () => {
    const task = loadTask(OLD);
    expect(errorOf(() => withSession(task, 'merged' as never, 'x')).message).toMatch(
      /state must be one of planning/,
    );
    expect(errorOf(() => withSession(task, 'in_dev', '../x')).code).toBe('INVALID_KEY');
  });
});

describe('taskContext', () => {
  const a: DagTask = { id: 'a', featureId: 'f1', title: 'Lexer', state: 'merged' };
  const b: DagTask = {
    id: 'b',
    featureId: 'f1',
    title: 'Parser',
    state: 'in_dev',
    dependencies: ['a'],
    description: 'Parse tokens',
    plan: 'Recursive descent',
  };
  const c: DagTask = { id: 'c', featureId: 'f1', title: 'CLI', state: 'planning', dependencies: ['b'] };

  it('holds title, state, dependencies and dependents with their states, the DAG, description and plan', () => {
    const context = taskContext(b, {
      featureName: 'Calculator',
      featureGoal: 'Evaluate expressions',
      tasks: [a, b, c],
      recentCommits: ['abc123 lexer'],
    });
    expect(context).toEqual({
      featureName: 'Calculator',
      featureGoal: 'Evaluate expressions',
      taskTitle: 'Parser',
      taskState: 'in_dev',
      dagSummary:
        '3 tasks:\n- a "Lexer" [merged]\n- b "Parser" [in_dev] after a\n- c "CLI" [planning] after b',
      dependencies: ['a "Lexer" [merged]'],
      dependents: ['c "CLI" [planning]'],
      recentCommits: ['abc123 lexer'],
      taskDescription: 'Parse tokens',
      plan: 'Recursive descent',
    });
  });

  it('works without a DAG and leaves empty parts out', () => {
    expect(taskContext(a)).toEqual({ taskTitle: 'Lexer', taskState: 'merged' });
    expect(taskContext({ ...c, dependents: ['d'] }, { summary: 'custom' })).toEqual({
      taskTitle: 'CLI',
      taskState: 'planning',
      dagSummary: 'custom',
      dependencies: ['b'],
      dependents: ['d'],
    });
    expect(summarizeDag([])).toBe('');
  });
});

describe('agent profiles', () => {
  it('route every task state to exactly one agent type', () => {
    expect(Object.fromEntries(TASK_STATES.map((s) => [s, agentForTaskState(s)]))).toEqual({
      planning: 'pm',
      in_dev: 'dev',
      in_qa: 'qa',
      in_review: 'harness',
      merging: 'merge',
    });
    const owned = Object.values(DEFAULT_AGENT_PROFILES).flatMap((p) => p.taskStates);
    expect([...owned].sort()).toEqual([...TASK_STATES].sort());
    expect(DEFAULT_AGENT_PROFILES.pm.featureLevel).toBe(true);
    expect(errorOf(() => agentForTaskState('merged' as never)).message).toMatch(/has no sessions/);
  });
});
