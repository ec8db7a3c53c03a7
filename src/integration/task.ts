/**
 * The DAG engine's task as this library sees it: loading (old tasks without sessions still load),
 * the session context of a task, and the per-state session list the task controller keeps.
 */
import { SessionError, describeError } from '../core/errors.js';
import { assertSafeSegment, assertSessionId } from '../core/ids.js';
import { TASK_STATES, type SessionContext, type TaskState } from '../core/types.js';

/**
 * A task's state in the DAG engine: one of the states with sessions, or one of the engine's own
 * (`pending`, `ready`, `blocked`, `merged`, `failed`...), kept as given.
 *
 * @example const state: DagTaskState = 'merged';
 */
export type DagTaskState = TaskState | 'pending' | 'ready' | 'blocked' | 'merged' | 'failed' | (string & {});

/**
 * The session id of each task state the task went through.
 *
 * @example const sessions: TaskSessions = { planning: 'task--f1--t1--planning--pm' };
 */
export type TaskSessions = Partial<Record<TaskState, string>>;

/**
 * A task of the DAG engine. `sessions` and `currentSession` are optional so that tasks written
 * before they existed still load; any other field of the engine is kept as is.
 *
 * @example
 * ```ts
 * const task: DagTask = { id: 'parser', featureId: 'f1', title: 'Write the parser', state: 'planning', dependencies: [] };
 * ```
 */
export interface DagTask {
  id: string;
  featureId: string;
  title: string;
  state: DagTaskState;
  description?: string;
  /** The task's plan: text, or one step per item. */
  plan?: string | string[];
  /** Ids of the tasks this one waits for. */
  dependencies?: string[];
  /** Ids of the tasks that wait for this one. */
  dependents?: string[];
  sessions?: TaskSessions;
  /** The session the task is in now (the last one {@link withSession} set). */
  currentSession?: string;
  [extra: string]: unknown;
}

/**
 * What {@link taskContext} may know of the whole DAG.
 *
 * @example const dag: DagView = { featureName: 'Login', tasks: [a, b, c] };
 */
export interface DagView {
  featureName?: string;
  featureGoal?: string;
  /** Every task of the feature: dependents and the DAG summary are derived from them. */
  tasks?: readonly DagTask[];
  /** A summary written by the engine; used instead of the derived one. */
  summary?: string;
  projectNotes?: string;
  recentCommits?: string[];
}

/** @internal */
function invalid(message: string, cause?: unknown): never {
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `loadTask: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/** @internal An id that becomes part of a session key: safe as a path segment. */
function safeId(value: unknown, what: string): string {
  try {
    assertSafeSegment(value, what);
  } catch (error) {
    invalid(describeError(error).replace(/^\[dagent-sessions\] \[\w+\] /, ''), error);
  }
  return value;
}

/** @internal */
function stringList(value: unknown, what: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    invalid(`${what} must be a list of task ids (strings), got ${JSON.stringify(value)}`);
  }
  return [...(value as string[])];
}

/** @internal */
function sessionsOf(value: unknown, taskId: string): TaskSessions | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    invalid(`task "${taskId}": sessions must be an object like { "in_dev": "<session id>" }`);
  const sessions: TaskSessions = {};
  for (const [state, id] of Object.entries(value)) {
    if (!TASK_STATES.includes(state as TaskState)) {
      invalid(
        `task "${taskId}": sessions has the state "${state}"; the states with sessions are ${TASK_STATES.join(', ')}`,
      );
    }
    if (typeof id !== 'string' || id === '')
      invalid(`task "${taskId}": sessions.${state} must be a session id (a non-empty string)`);
    sessions[state as TaskState] = id;
  }
  return sessions;
}

/**
 * Reads a task of the DAG engine: checks the fields this library relies on and returns a copy.
 * Tasks without `sessions` or `currentSession` (written before they existed), or with them
 * `null`, load without them; unknown fields are kept.
 *
 * @param input - The task, parsed or as JSON text.
 * @returns A validated copy.
 * @throws SessionError `INVALID_ARGUMENT` starting `loadTask:` and naming the task and the field:
 *   JSON that does not parse, a missing or unsafe `id`/`featureId` (they become parts of session
 *   ids), a missing `title` or `state`, lists that are not lists of strings, `sessions` keyed by a
 *   state without sessions.
 * @example
 * ```ts
 * const task = loadTask(await readFile('tasks/parser.json', 'utf8'));
 * task.sessions?.in_dev // undefined for an old task
 * ```
 */
export function loadTask(input: unknown): DagTask {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch (error) {
      invalid(`the task is not valid JSON (${describeError(error)})`, error);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid('a task must be an object like { id, featureId, title, state }');
  }
  const raw = structuredClone(value) as Record<string, unknown>;
  const id = safeId(raw.id, 'task id');
  const featureId = safeId(raw.featureId, `task "${id}": featureId`);
  if (typeof raw.title !== 'string' || raw.title.trim() === '')
    invalid(`task "${id}": title must be a non-empty string`);
  if (typeof raw.state !== 'string' || raw.state === '')
    invalid(`task "${id}": state must be a non-empty string such as "planning" or "merged"`);
  for (const field of ['description', 'currentSession'] as const) {
    if (raw[field] !== undefined && raw[field] !== null && typeof raw[field] !== 'string')
      invalid(`task "${id}": ${field} must be a string`);
  }
  const plan = raw.plan;
  if (
    plan !== undefined &&
    plan !== null &&
    typeof plan !== 'string' &&
    !(Array.isArray(plan) && plan.every((s) => typeof s === 'string'))
  ) {
    invalid(`task "${id}": plan must be a string or a list of strings`);
  }
  const {
    sessions: _s,
    currentSession: _c,
    dependencies: _d,
    dependents: _e,
    plan: _p,
    description: _t,
    ...rest
  } = raw;
  const dependencies = stringList(raw.dependencies, `task "${id}": dependencies`);
  const dependents = stringList(raw.dependents, `task "${id}": dependents`);
  const sessions = sessionsOf(raw.sessions, id);
  return {
    ...rest,
    id,
    featureId,
    title: raw.title,
    state: raw.state,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(plan === undefined || plan === null ? {} : { plan: plan as string | string[] }),
    ...(dependencies ? { dependencies } : {}),
    ...(dependents ? { dependents } : {}),
    ...(sessions ? { sessions } : {}),
    ...(typeof raw.currentSession === 'string' ? { currentSession: raw.currentSession } : {}),
  };
}

/**
 * The task with the session of one state recorded: `sessions[state]` and `currentSession` set to
 * `sessionId`. The task given is not changed.
 *
 * @param task - The task.
 * @param state - The task state the session serves.
 * @param sessionId - The session's id.
 * @returns A new task object (with a new `sessions` object).
 * @throws SessionError `INVALID_ARGUMENT` for a state without sessions; `INVALID_KEY` for an
 *   unsafe session id.
 * @example
 * ```ts
 * const next = withSession(task, 'in_dev', 'task--f1--parser--in_dev--dev');
 * next.currentSession // 'task--f1--parser--in_dev--dev'
 * ```
 */
export function withSession(task: DagTask, state: TaskState, sessionId: string): DagTask {
  if (!TASK_STATES.includes(state)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `withSession: state must be one of ${TASK_STATES.join(', ')}, got ${JSON.stringify(state)}`,
    );
  }
  assertSessionId(sessionId);
  return { ...task, sessions: { ...task.sessions, [state]: sessionId }, currentSession: sessionId };
}

/** @internal `id "title" [state]`, or the bare id when the task is not known. */
function label(id: string, byId: ReadonlyMap<string, DagTask>): string {
  const task = byId.get(id);
  return task ? `${id} "${task.title}" [${task.state}]` : id;
}

/**
 * A one-line-per-task summary of a DAG: `- <id> "<title>" [<state>] after <dependencies>`.
 *
 * @param tasks - The tasks of one feature.
 * @returns The summary, `''` for no tasks.
 * @example
 * ```ts
 * summarizeDag([a, b]) // '2 tasks:\n- a "Parser" [merged]\n- b "CLI" [in_dev] after a'
 * ```
 */
export function summarizeDag(tasks: readonly DagTask[]): string {
  if (tasks.length === 0) return '';
  const lines = tasks.map((t) => {
    const after = t.dependencies && t.dependencies.length > 0 ? ` after ${t.dependencies.join(', ')}` : '';
    return `- ${t.id} "${t.title}" [${t.state}]${after}`;
  });
  return `${tasks.length} task${tasks.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/**
 * The session context of a task: title and state, its dependencies and dependents (with titles
 * and states when the DAG is given; dependents derived from the DAG when the task does not list
 * them), a DAG summary, the description (`taskDescription`) and the plan (`plan`). Empty parts
 * are left out.
 *
 * @param task - The task.
 * @param dag - What is known of the feature and its other tasks.
 * @returns A context for `createSession` or `setContext`.
 * @example
 * ```ts
 * await runtime.createSession(key, { context: taskContext(task, { featureName: 'Login', tasks }) });
 * ```
 */
export function taskContext(task: DagTask, dag: DagView = {}): SessionContext {
  const byId = new Map((dag.tasks ?? []).map((t) => [t.id, t] as const));
  const dependents =
    task.dependents ??
    (dag.tasks ? dag.tasks.filter((t) => t.dependencies?.includes(task.id)).map((t) => t.id) : undefined);
  const summary = dag.summary ?? summarizeDag(dag.tasks ?? []);
  const context: SessionContext = {
    ...(dag.featureName ? { featureName: dag.featureName } : {}),
    ...(dag.featureGoal ? { featureGoal: dag.featureGoal } : {}),
    taskTitle: task.title,
    taskState: task.state,
    ...(summary ? { dagSummary: summary } : {}),
    ...(task.dependencies && task.dependencies.length > 0
      ? { dependencies: task.dependencies.map((id) => label(id, byId)) }
      : {}),
    ...(dependents && dependents.length > 0 ? { dependents: dependents.map((id) => label(id, byId)) } : {}),
    ...(dag.projectNotes ? { projectNotes: dag.projectNotes } : {}),
    ...(dag.recentCommits && dag.recentCommits.length > 0 ? { recentCommits: [...dag.recentCommits] } : {}),
    ...(task.description ? { taskDescription: task.description } : {}),
    ...(task.plan !== undefined && task.plan.length > 0
      ? { plan: Array.isArray(task.plan) ? [...task.plan] : task.plan }
      : {}),
  };
  return context;
}
