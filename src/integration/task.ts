/**
 * The DAG engine's task as this library sees it: loading every shape a task was written in (the
 * seed's, this library's earlier one, DAGent's), saving the seed's, and the per-state session
 * lists the task controller keeps. The session context of a task is in `task-context.ts`.
 */
import { SessionError, describeError } from '../core/errors.js';
import { assertSafeSegment, assertSessionId } from '../core/ids.js';
import type { TaskState } from '../core/types.js';

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
