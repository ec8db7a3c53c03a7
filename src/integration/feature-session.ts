/**
 * A feature's PM session, as DAGent's flow opens it when a feature is created: a `feature`
 * session of the `pm` agent whose context holds the feature (name, goal, DAG) and whose checkpoint
 * starts with the feature's goals, so the planning conversation starts from them and keeps them
 * through every compaction.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { AgentDescription, SessionContext, SessionKey } from '../core/types.js';
import type { InitialCheckpoint } from '../runtime/initial-checkpoint.js';
import type { SessionInfo, SessionRuntime } from '../runtime/types.js';
import { featureGoalContext, featureGoalsOf, summarizeDag, type DagView } from './task-context.js';

/**
 * Options of {@link createFeatureSession}.
 *
 * @example
 * const options: FeatureSessionOptions = {
 *   runtime,
 *   featureId: 'export',
 *   dag: { featureName: 'Export', featureGoal: 'CSV export' },
 * };
 */
export interface FeatureSessionOptions {
  runtime: SessionRuntime;
  featureId: string;
  /** The feature: name, goal(s), tasks, notes. */
  dag?: DagView;
  /** The goals the checkpoint starts with. Default: {@link featureGoalsOf}(dag). */
  goals?: string[];
  /** Default: the pm agent type's description. */
  agentDescription?: AgentDescription;
}

/**
 * The goals checkpoint of a planning session: version 0 whose summary's goals are `goals`
 * (undefined when there are none).
 *
 * @param goals - The feature's goals.
 * @returns The initial checkpoint for `createSession`, or undefined.
 * @example goalsCheckpoint(['CSV export']) // { summary: { goals: ['CSV export'] } }
 */
export function goalsCheckpoint(goals: readonly string[]): InitialCheckpoint | undefined {
  const kept = goals.map((goal) => goal.trim()).filter((goal) => goal !== '');
  return kept.length === 0 ? undefined : { summary: { goals: kept } };
}

const FEATURE_SESSION_OPTIONS = optionNames({
  runtime: true,
  featureId: true,
  dag: true,
  goals: true,
  agentDescription: true,
} satisfies Record<keyof FeatureSessionOptions, true>);

/**
 * Creates (or reopens) a feature's PM session `{ type: 'feature', agentType: 'pm', featureId }`.
 * A new one gets the feature's context (`featureName`, `featureGoal`, the DAG summary, project
 * notes, recent commits) and a checkpoint (version 0) whose goals are the feature's. A session that
 * exists already is returned as it is: its checkpoint has moved on since.
 *
 * @param options - Runtime, feature id, what is known of the feature, the goals.
 * @returns The session's info.
 * @throws SessionError `INVALID_KEY` for a feature id unfit for a key; `INVALID_ARGUMENT` for a name
 *   none of its options, or goals that are not strings or pass the checkpoint budget; what
 *   `createSession` throws.
 * @example
 * ```ts
 * const pm = await createFeatureSession({
 *   runtime,
 *   featureId: 'export',
 *   dag: { featureName: 'Export', featureGoal: '- CSV export\n- UTF-8 only' },
 * });
 * (await runtime.getCheckpoint(pm.id))?.summary.goals // ['CSV export', 'UTF-8 only']
 * ```
 */
export async function createFeatureSession(options: FeatureSessionOptions): Promise<SessionInfo> {
  // A misspelt `featureID` would be taken as no feature id at all, `goal` as no goals.
  checkOptionNames(
    options,
    FEATURE_SESSION_OPTIONS,
    (message) => new SessionError('INVALID_ARGUMENT', 'runtime', `createFeatureSession: ${message}`),
  );
  const dag = options.dag ?? {};
  const goals = options.goals ?? featureGoalsOf(dag);
  if (!Array.isArray(goals) || !goals.every((goal) => typeof goal === 'string'))
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'createFeatureSession: goals must be a list of strings',
    );
  const key: SessionKey = { type: 'feature', agentType: 'pm', featureId: options.featureId };
  const summary = dag.summary ?? summarizeDag(dag.tasks ?? []);
  const context: SessionContext = {
    ...(dag.featureName ? { featureName: dag.featureName } : {}),
    ...featureGoalContext(dag),
    ...(summary ? { dagSummary: summary } : {}),
    ...(dag.projectNotes ? { projectNotes: dag.projectNotes } : {}),
    ...(dag.recentCommits && dag.recentCommits.length > 0 ? { recentCommits: [...dag.recentCommits] } : {}),
  };
  const checkpoint = goalsCheckpoint(goals);
  return options.runtime.createSession(key, {
    context,
    ...(checkpoint ? { checkpoint } : {}),
    ...(options.agentDescription ? { agentDescription: options.agentDescription } : {}),
  });
}
