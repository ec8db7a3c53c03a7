/**
 * What a task's sessions are told about their task and its DAG: the session context of a task,
 * the one-line-per-task summary of a DAG, and the goals of its feature.
 */
import type { SessionContext } from '../core/types.js';
import type { DagTask } from './task.js';

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
