/**
 * The DAG engine's task as this library sees it: loading every shape a task was written in (the
 * seed's, this library's earlier one, DAGent's), saving the seed's, the session context of a task,
 * and the per-state session lists the task controller keeps.
 */
import { SessionError, describeError } from '../core/errors.js';
import { assertSafeSegment, assertSessionId } from '../core/ids.js';
import type { SessionContext, TaskState } from '../core/types.js';

/**
 * A task's state in the DAG engine: one of the states with sessions, or one of the engine's own
 * (`pending`, `ready`, `blocked`, `merged`, `failed`, DAGent's `ready_for_dev`...), kept as given.
 *
 * @example const state: DagTaskState = 'merged';
 */
export type DagTaskState = TaskState | 'pending' | 'ready' | 'blocked' | 'merged' | 'failed' | (string & {});

/**
 * The sessions of each task state the task went through, oldest first: a state can have several
 * sessions over time (a task sent back to development gets a new `in_dev` session).
 *
 * @example const sessions: TaskSessions = { in_dev: ['task--f1--t1--in_dev--dev'], in_qa: [] };
 */
export type TaskSessions = Partial<Record<TaskState, string[]>>;

/**
 * A task of the DAG engine. `sessions` and `currentSession` are optional so that tasks written
 * before they existed still load; any other field of the engine is kept as is.
 *
 * @example
 * ```ts
 * const task: DagTask = {
 *   id: 'parser',
 *   featureId: 'f1',
 *   title: 'Write the parser',
 *   state: 'planning',
 *   dependencies: [],
 * };
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
  /** The session the task is in now (the last one {@link withSession} added). */
  currentSession?: string;
  [extra: string]: unknown;
}

/**
 * Options of {@link loadTask}.
 *
 * @example loadTask(dagentTask, { featureId: 'feature-login' })
 */
export interface LoadTaskOptions {
  /**
   * The feature of a task that does not say (DAGent's tasks live in their feature's `dag.json`
   * and have no `featureId`). A task that says must say the same.
   */
  featureId?: string;
}

/**
 * What {@link taskContext} may know of the whole DAG.
 *
 * @example const dag: DagView = { featureName: 'Login', tasks: [a, b, c] };
 */
export interface DagView {
  featureName?: string;
  /** The feature's goal as DAGent's context held it: one statement, or one per line (`- ` bullets read too). */
  featureGoal?: string;
  /** The feature's goals, one per item; used instead of `featureGoal` for the goals ({@link featureGoalsOf}). */
  featureGoals?: string[];
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

const withoutPrefix = (error: unknown) => describeError(error).replace(/^\[dagent-sessions\] \[\w+\] /, '');

/** @internal An id that becomes part of a session key: safe as a path segment. */
function safeId(value: unknown, what: string): string {
  try {
    assertSafeSegment(value, what);
  } catch (error) {
    invalid(withoutPrefix(error), error);
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

/** @internal A session id of a task, checked as a caller's id is. */
function sessionId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    invalid(`${what} must be a session id (a non-empty string), got ${JSON.stringify(value)}`);
  try {
    assertSessionId(value);
  } catch (error) {
    invalid(`${what}: ${withoutPrefix(error)}`, error);
  }
  return value;
}

/**
 * @internal The session lists, from the seed's shape (`{ in_dev: [ids] }`) or this library's
 * earlier one (`{ in_dev: id }`). States are checked as id parts only: a host may register its own.
 */
function sessionsOf(value: unknown, taskId: string): TaskSessions | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    invalid(`task "${taskId}": sessions must be an object like { "in_dev": ["<session id>"] }`);
  const sessions: TaskSessions = {};
  for (const [state, ids] of Object.entries(value)) {
    safeId(state, `task "${taskId}": the sessions state`);
    if (ids === null || ids === undefined) continue;
    const at = `task "${taskId}": sessions.${state}`;
    sessions[state] = Array.isArray(ids)
      ? ids.map((id: unknown, i) => sessionId(id, `${at}[${i}]`))
      : [sessionId(ids, at)];
  }
  return sessions;
}

/** @internal One of two names of one field (the seed's and DAGent's): they must agree. */
function eitherOf(raw: Record<string, unknown>, name: string, alias: string, id: string): unknown {
  const given = (v: unknown) => v !== undefined && v !== null;
  const a = raw[name];
  const b = raw[alias];
  if (given(a) && given(b) && a !== b)
    invalid(
      `task "${id}": ${name} ${JSON.stringify(a)} and ${alias} ${JSON.stringify(b)} disagree; keep one`,
    );
  return given(a) ? a : b;
}

/** The fields {@link loadTask} reads; every other field is kept untouched. */
const KNOWN: readonly string[] = [
  'id',
  'featureId',
  'title',
  'state',
  'description',
  'plan',
  'dependencies',
  'dependents',
  'sessions',
  'currentSession',
  'currentSessionId',
];

/**
 * Reads a task of the DAG engine in any shape it was written in, checks the fields this library
 * relies on, and returns a copy in the seed's shape:
 *
 * - the seed's: `sessions` as lists per state (`{ in_dev: [ids] }`) and `currentSession`;
 * - this library's earlier one: one id per state (`{ in_dev: id }`), read as a list of one;
 * - DAGent's: `currentSessionId` (read as `currentSession`), `status` (read as `state` when there
 *   is no `state`, and kept as it is), and no `featureId` (give it in `options`).
 *
 * Tasks without `sessions` or `currentSession`, or with them `null`, load without them. Every
 * other field (DAGent's `status`, `locked`, `position`, `qaFeedback`...) is kept untouched, and
 * {@link saveTask} writes it back as it was.
 *
 * @param input - The task, parsed or as JSON text.
 * @param options - `featureId` for a task that does not name its feature.
 * @returns A validated copy.
 * @throws SessionError `INVALID_ARGUMENT` starting `loadTask:` and naming the task and the field:
 *   JSON that does not parse, a missing or unsafe `id`/`featureId` (they become parts of session
 *   ids), a missing `title`, neither `state` nor `status`, lists that are not lists of strings,
 *   unsafe session ids or states, two names of one field that disagree.
 * @example
 * ```ts
 * const task = loadTask(await readFile('tasks/parser.json', 'utf8'));
 * const fromDagent = loadTask(dag.nodes[0], { featureId: 'feature-login' }); // DAGent's shape
 * fromDagent.currentSession // its currentSessionId
 * ```
 */
export function loadTask(input: unknown, options: LoadTaskOptions = {}): DagTask {
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
  const named = raw.featureId !== undefined && raw.featureId !== null;
  if (named && options.featureId !== undefined && raw.featureId !== options.featureId)
    invalid(`task "${id}" is of feature ${JSON.stringify(raw.featureId)}, not "${options.featureId}"`);
  if (!named && options.featureId === undefined)
    invalid(
      `task "${id}" does not name its feature (DAGent's tasks ` +
        `have no featureId): pass it, loadTask(task, { featureId })`,
    );
  const featureId = safeId(named ? raw.featureId : options.featureId, `task "${id}": featureId`);
  if (typeof raw.title !== 'string' || raw.title.trim() === '')
    invalid(`task "${id}": title must be a non-empty string`);
  const state = raw.state ?? raw.status;
  if (typeof state !== 'string' || state === '')
    invalid(
      `task "${id}": state (or DAGent's status) must be a non-empty string such as "planning" or "merged"`,
    );
  if (raw.description !== undefined && raw.description !== null && typeof raw.description !== 'string')
    invalid(`task "${id}": description must be a string`);
  const plan = raw.plan;
  if (
    plan !== undefined &&
    plan !== null &&
    typeof plan !== 'string' &&
    !(Array.isArray(plan) && plan.every((s) => typeof s === 'string'))
  ) {
    invalid(`task "${id}": plan must be a string or a list of strings`);
  }
  const current = eitherOf(raw, 'currentSession', 'currentSessionId', id);
  const currentSession =
    current === undefined || current === null
      ? undefined
      : sessionId(current, `task "${id}": currentSession`);
  const extras = Object.fromEntries(Object.entries(raw).filter(([key]) => !KNOWN.includes(key)));
  const dependencies = stringList(raw.dependencies, `task "${id}": dependencies`);
  const dependents = stringList(raw.dependents, `task "${id}": dependents`);
  const sessions = sessionsOf(raw.sessions, id);
  return {
    ...extras,
    id,
    featureId,
    title: raw.title,
    state,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(plan === undefined || plan === null ? {} : { plan: plan as string | string[] }),
    ...(dependencies ? { dependencies } : {}),
    ...(dependents ? { dependents } : {}),
    ...(sessions ? { sessions } : {}),
    ...(currentSession === undefined ? {} : { currentSession }),
  };
}

/**
 * A task as JSON text in the seed's shape, to write back where it was read from: `id`,
 * `featureId`, `title`, `state`, the optional known fields, `sessions` as lists per state and
 * `currentSession`, then every other field exactly as {@link loadTask} found it (DAGent's
 * `status`, `locked`, `position`...). DAGent's `currentSessionId` is written as `currentSession`.
 *
 * @param task - A task from {@link loadTask} (or {@link withSession}); it is checked again.
 * @returns Pretty-printed JSON with a final newline.
 * @throws SessionError `INVALID_ARGUMENT` as {@link loadTask} for a task that is not valid.
 * @example
 * ```ts
 * await writeFile(taskFile, saveTask(loop.task)); // sessions.in_dev and currentSession recorded
 * ```
 */
export function saveTask(task: DagTask): string {
  const {
    id,
    featureId,
    title,
    state,
    description,
    plan,
    dependencies,
    dependents,
    sessions,
    currentSession,
    ...extras
  } = loadTask(task);
  const seed = {
    id,
    featureId,
    title,
    state,
    ...(description === undefined ? {} : { description }),
    ...(plan === undefined ? {} : { plan }),
    ...(dependencies === undefined ? {} : { dependencies }),
    ...(dependents === undefined ? {} : { dependents }),
    ...(sessions === undefined ? {} : { sessions }),
    ...(currentSession === undefined ? {} : { currentSession }),
  };
  return `${JSON.stringify({ ...seed, ...extras }, null, 2)}\n`;
}

/**
 * The task with a session of one state recorded: `sessionId` appended to `sessions[state]`
 * (unless it is the last one there already) and `currentSession` set to it. The task given is
 * not changed.
 *
 * @param task - The task.
 * @param state - The task state the session serves (DAGent's, or one a host registered).
 * @param sessionId - The session's id.
 * @returns A new task object, with new `sessions` lists.
 * @throws SessionError `INVALID_ARGUMENT` for a state that is not a safe id part; `INVALID_KEY`
 *   for an unsafe session id.
 * @example
 * ```ts
 * const next = withSession(task, 'in_dev', 'task--f1--parser--in_dev--dev');
 * next.sessions?.in_dev // [..., 'task--f1--parser--in_dev--dev']
 * next.currentSession // 'task--f1--parser--in_dev--dev'
 * ```
 */
export function withSession(task: DagTask, state: TaskState, sessionId: string): DagTask {
  try {
    assertSafeSegment(state, 'state');
  } catch (error) {
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `withSession: ${withoutPrefix(error)}`, {
      cause: error,
    });
  }
  assertSessionId(sessionId);
  const sessions: TaskSessions = {};
  for (const [s, ids] of Object.entries(task.sessions ?? {})) if (ids) sessions[s] = [...ids];
  const list = sessions[state] ?? [];
  sessions[state] = list[list.length - 1] === sessionId ? list : [...list, sessionId];
  return { ...task, sessions, currentSession: sessionId };
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
    ...featureGoalContext(dag),
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

/** @internal The context's `featureGoal`: as given, or the goals as `- ` lines. */
export function featureGoalContext(dag: DagView): { featureGoal?: string } {
  if (dag.featureGoal) return { featureGoal: dag.featureGoal };
  const goals = dag.featureGoals ? featureGoalsOf(dag) : [];
  return goals.length > 0 ? { featureGoal: goals.map((goal) => `- ${goal}`).join('\n') } : {};
}

/**
 * The goals of a feature, as a PM planning session's checkpoint starts with them: `featureGoals`
 * when given, else `featureGoal` split into its lines (list markers `- `, `* `, `1. ` removed, blank
 * lines dropped). Empty when neither says anything.
 *
 * @param dag - What is known of the feature.
 * @returns The goals, one statement each.
 * @example featureGoalsOf({ featureGoal: '- Export to CSV\n- Keep UTF-8' }) // ['Export to CSV', 'Keep UTF-8']
 */
export function featureGoalsOf(dag: DagView = {}): string[] {
  const items = dag.featureGoals ?? (typeof dag.featureGoal === 'string' ? dag.featureGoal.split('\n') : []);
  return items
    .filter((item): item is string => typeof item === 'string')
    .map((item) => item.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '').trim())
    .filter((item) => item !== '');
}
