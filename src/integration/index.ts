/**
 * `dagent-sessions/dag`: sessions for the DAG engine's tasks. `loadTask` reads a task with the
 * sessions of its states, `withSession` records one, `agentForTaskState` routes a state to its
 * agent type, `createFeatureSession` opens a feature's PM session with its goals, and
 * `createTaskLoop` runs a Ralph loop: a fresh request per iteration, checks and each iteration's
 * outcome recorded in the checkpoint, live messages cleared into the archive.
 */
export { agentForTaskState } from '../runtime/agent-profiles.js';
export { loadTask, saveTask, withSession } from './task.js';
export { featureGoalsOf, summarizeDag, taskContext } from './task-context.js';
export { createFeatureSession, goalsCheckpoint } from './feature-session.js';
export type { FeatureSessionOptions } from './feature-session.js';
export type { DecisionInput, IterationRecord } from '../core/checkpoint-change.js';
export type { DagTask, DagTaskState, LoadTaskOptions, TaskSessions } from './task.js';
export type { DagView } from './task-context.js';
export { AGENT_CHECK_ID, createTaskLoop, defaultTaskPrompt } from './task-loop.js';
export type {
  IterationResult,
  TaskAgent,
  TaskAgentInput,
  TaskAgentOutput,
  TaskLoop,
  TaskLoopOptions,
  TaskLoopOutcome,
  TaskLoopResult,
} from './task-loop.js';
