import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { TASK_STATES } from '../../src/core/types.js';
import { loadTask, saveTask, withSession, type DagTask } from '../../src/integration/task.js';
import { summarizeDag, taskContext } from '../../src/integration/task-context.js';
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

/** A task as DAGent's `src/shared/types/task.ts` wrote it: status, currentSessionId, no featureId. */
const DAGENT_TASK = {
  id: 'task-login-form',
  title: 'Create login form UI component',
  description: 'Email and password inputs with validation',
  status: 'in_progress',
  locked: false,
  position: { x: 120, y: 340 },
  qaFeedback: 'Password field must mask input',
  assignedAgentId: 'dev-agent-abc123',
  sessions: {
    in_dev: [
      'dev-task-feature-login-task-login-form-in_dev',
      'task--feature-login--task-login-form--in_dev--dev',
    ],
    in_qa: ['qa-task-feature-login-task-login-form-in_qa'],
  },
  currentSessionId: 'task--feature-login--task-login-form--in_dev--dev',
};

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

  it("reads the seed's shape: a list of sessions per state, plan and dependents", () => {
    const input = {
      ...OLD,
      state: 'in_dev',
      plan: ['tokenise', 'parse'],
      dependents: ['cli'],
      sessions: {
        planning: ['task--f1--parser--planning--pm'],
        in_dev: ['task--f1--parser--in_dev--dev', 'task--f1--parser--in_dev--dev-2'],
        in_qa: [],
        in_review: [],
      },
      currentSession: 'task--f1--parser--in_dev--dev-2',
    };
    expect(loadTask(input)).toEqual(input);
  });

  it('reads the earlier shape, one session id per state, as lists of one', () => {
    const task = loadTask({
      ...OLD,
      sessions: { planning: 'task--f1--parser--planning--pm', in_dev: 'task--f1--parser--in_dev--dev' },
      currentSession: 'task--f1--parser--in_dev--dev',
    });
    expect(task.sessions).toEqual({
      planning: ['task--f1--parser--planning--pm'],
      in_dev: ['task--f1--parser--in_dev--dev'],
    });
  });

  it("reads DAGent's shape: status as the state, currentSessionId, the feature given, every other field kept", () => {
    // Before: refused with "sessions.in_dev must be a session id", and without a featureId.
    const task = loadTask(DAGENT_TASK, { featureId: 'feature-login' });
    expect(task).toEqual({
      ...DAGENT_TASK,
      currentSessionId: undefined,
      featureId: 'feature-login',
      state: 'in_progress',
      currentSession: 'task--feature-login--task-login-form--in_dev--dev',
    });
    expect('currentSessionId' in task).toBe(false);
    expect(task.status).toBe('in_progress');
    expect(task.position).toEqual({ x: 120, y: 340 });
    expect(loadTask({ ...DAGENT_TASK, featureId: 'feature-login' }).featureId).toBe('feature-login');
    expect(loadTask({ ...DAGENT_TASK, state: 'in_dev' }, { featureId: 'f' }).state).toBe('in_dev');
  });

  it.each([
    ['{"id": "x"', /not valid JSON/],
    [null, /must be an object/],
    [[OLD], /must be an object/],
    [{ ...OLD, id: undefined }, /task id must be a non-empty string/],
    [{ ...OLD, id: 'a/b' }, /task id "a\/b" may only contain/],
    [{ ...OLD, featureId: '..' }, /featureId "\.\." is a reserved name/],
    [{ ...OLD, featureId: undefined }, /does not name its feature .*loadTask\(task, \{ featureId \}\)/],
    [{ ...OLD, id: 'a--b' }, /must not contain "--"/],
    [{ ...OLD, title: '' }, /task "parser": title must be a non-empty string/],
    [{ ...OLD, state: 3 }, /task "parser": state \(or DAGent's status\) must be a non-empty string/],
    [{ ...OLD, state: undefined }, /state \(or DAGent's status\)/],
    [{ ...OLD, dependencies: 'lexer' }, /dependencies must be a list of task ids/],
    [{ ...OLD, dependents: [1] }, /dependents must be a list/],
    [{ ...OLD, plan: { steps: 1 } }, /plan must be a string or a list of strings/],
    [{ ...OLD, sessions: ['x'] }, /sessions must be an object/],
    [{ ...OLD, sessions: { '../x': ['a'] } }, /the sessions state "\.\.\/x"/],
    [{ ...OLD, sessions: { in_dev: 7 } }, /sessions\.in_dev must be a session id/],
    [{ ...OLD, sessions: { in_dev: ['ok', 7] } }, /sessions\.in_dev\[1\] must be a session id/],
    [{ ...OLD, sessions: { in_dev: ['a/b'] } }, /sessions\.in_dev\[0\]: session id "a\/b"/],
    [{ ...OLD, currentSession: 7 }, /currentSession must be a session id/],
    [
      { ...OLD, currentSession: 'a', currentSessionId: 'b' },
      /currentSession "a" and currentSessionId "b" disagree/,
    ],
  ])('refuses %j with a clear error', (input, message) => {
    const error = errorOf(() => loadTask(input));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/loadTask: /);
    expect(error.message).toMatch(message);
  });

  it('refuses a task of another feature than the one given', () => {
    expect(errorOf(() => loadTask(OLD, { featureId: 'f2' })).message).toMatch(/of feature "f1", not "f2"/);
  });
});

describe('saveTask', () => {
  it("writes the seed's shape and every other field exactly as it was read", () => {
    const task = withSession(
      loadTask(DAGENT_TASK, { featureId: 'feature-login' }),
      'in_qa',
      'task--feature-login--task-login-form--in_qa--qa',
    );
    const text = saveTask(task);
    expect(text.endsWith('}\n')).toBe(true);
    const saved = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(saved).slice(0, 4)).toEqual(['id', 'featureId', 'title', 'state']);
    expect(saved).toEqual({
      id: DAGENT_TASK.id,
      featureId: 'feature-login',
      title: DAGENT_TASK.title,
      state: 'in_progress',
      description: DAGENT_TASK.description,
      sessions: {
        in_dev: DAGENT_TASK.sessions.in_dev,
        in_qa: [...DAGENT_TASK.sessions.in_qa, 'task--feature-login--task-login-form--in_qa--qa'],
      },
      currentSession: 'task--feature-login--task-login-form--in_qa--qa',
      status: 'in_progress',
      locked: false,
      position: { x: 120, y: 340 },
      qaFeedback: DAGENT_TASK.qaFeedback,
      assignedAgentId: DAGENT_TASK.assignedAgentId,
    });
    expect(loadTask(text)).toEqual(task);
  });

  it('keeps unknown fields untouched through load and save, whatever they hold', () => {
    const known = new Set([
      ...['id', 'featureId', 'title', 'state', 'status', 'description', 'plan', 'dependencies'],
      ...['dependents', 'sessions', 'currentSession', 'currentSessionId'],
    ]);
    const extraKey = fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !known.has(k) && k !== '__proto__');
    const jsonValue = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(fc.dictionary(extraKey, jsonValue, { maxKeys: 6 }), (extras) => {
        const input = { ...OLD, ...extras, sessions: { in_dev: ['task--f1--parser--in_dev--dev'] } };
        const saved = JSON.parse(saveTask(loadTask(input))) as Record<string, unknown>;
        for (const [key, value] of Object.entries(extras)) expect(saved[key]).toEqual(value);
        expect(loadTask(saveTask(loadTask(input)))).toEqual(loadTask(input));
      }),
    );
  });

  it('refuses what loadTask refuses', () => {
    expect(errorOf(() => saveTask({ ...loadTask(OLD), title: '' })).message).toMatch(/title must be/);
  });
});

describe('withSession', () => {
  it('appends to sessions[state] and sets currentSession, leaving the input untouched', () => {
    const task = loadTask(OLD);
    const frozen = Object.freeze({ ...task });
    const a = withSession(frozen, 'planning', 'task--f1--parser--planning--pm');
    const b = withSession(a, 'in_dev', 'task--f1--parser--in_dev--dev');
    const c = withSession(b, 'in_dev', 'task--f1--parser--in_dev--dev');
    const d = withSession(withSession(c, 'in_qa', 'task--f1--parser--in_qa--qa'), 'in_dev', 'x2');
    expect(frozen.sessions).toBeUndefined();
    expect(a.sessions).toEqual({ planning: ['task--f1--parser--planning--pm'] });
    expect(a.currentSession).toBe('task--f1--parser--planning--pm');
    expect(b.sessions).toEqual({
      planning: ['task--f1--parser--planning--pm'],
      in_dev: ['task--f1--parser--in_dev--dev'],
    });
    expect(c.sessions).toEqual(b.sessions);
    expect(d.sessions?.in_dev).toEqual(['task--f1--parser--in_dev--dev', 'x2']);
    expect(d.currentSession).toBe('x2');
    expect(b.currentSession).toBe('task--f1--parser--in_dev--dev');
    expect(b.sessions).not.toBe(a.sessions);
    expect(b.sessions?.planning).not.toBe(a.sessions?.planning);
    expect(b.priority).toBe(3);
  });

  it("takes a host's own task state, and refuses an unsafe state or id", () => {
    const task = loadTask(OLD);
    expect(withSession(task, 'researching', 'task--f1--parser--researching--researcher').sessions).toEqual({
      researching: ['task--f1--parser--researching--researcher'],
    });
    expect(errorOf(() => withSession(task, '../x', 'x')).message).toMatch(/withSession: state "\.\.\/x"/);
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
    expect(errorOf(() => agentForTaskState('merged')).message).toMatch(
      /is not one of DAGent's states with sessions/,
    );
  });
});
