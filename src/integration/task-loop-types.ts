/**
 * The types a host writes a task loop's agent and options with: what the agent function receives
 * and returns each iteration, and the options of `createTaskLoop` (task-loop.ts).
 */
import type { IterationRecord, DecisionInput } from '../core/checkpoint-change.js';
import type { AgentDescription, AgentType, CheckResult, MessageInput, TaskState } from '../core/types.js';
import type { SessionRequest } from '../runtime/conversation.js';
import type { SessionRuntime } from '../runtime/types.js';
import type { DagTask } from './task.js';
import type { DagView } from './task-context.js';

/**
 * What the agent function receives each iteration.
 *
 * @example const input: TaskAgentInput = { request, iteration: 1, task, state: 'in_dev', sessionId };
 */
export interface TaskAgentInput {
  /** A fresh request (`flattened`): description, context and checkpoint; no live messages. */
  request: SessionRequest;
  /**
   * The iteration's number in its session: 1 for the first, and a loop reopened on the session
   * goes on from the iterations its checkpoint recorded.
   */
  iteration: number;
  task: DagTask;
  state: TaskState;
  sessionId: string;
}

/**
 * What the agent function returns: the iteration's messages (appended in order, after the
 * prompt), its verification checks, and whether it considers the state's work done. Files changed
 * and commands run are read from the messages' tool calls (`tool_use` / `tool_result` blocks of
 * the known tool vocabularies); an agent whose messages do not show them gives `files` and
 * `commands`. Decisions (a harness's review, a merge conflict resolution) go into the checkpoint
 * with the iteration.
 *
 * @example
 * const out: TaskAgentOutput = {
 *   messages: [{ role: 'assistant', content: 'Ran npm test: ok' }],
 *   checks: [{ checkId: 'tests', passed: true }],
 * };
 */
export interface TaskAgentOutput {
  messages: MessageInput[];
  checks: CheckResult[];
  done?: boolean;
  /** Files changed, when the messages do not show them as tool calls. */
  files?: IterationRecord['files'];
  /** Commands run and how they ended, when the messages do not show them as tool calls. */
  commands?: IterationRecord['commands'];
  /** Decisions of this iteration: `{ kind: 'review', subject, approved, reasons }`, `{ kind: 'merge', ... }`. */
  decisions?: DecisionInput[];
}

/**
 * The agent a host supplies: calls the model (and tools) with the request.
 *
 * @example
 * const agent: TaskAgent = async ({ request }) => ({
 *   messages: [await callModel(request)],
 *   checks: await runChecks(),
 *   done: false,
 * });
 */
export type TaskAgent = (input: TaskAgentInput) => Promise<TaskAgentOutput>;

/**
 * Options of {@link createTaskLoop}.
 *
 * @example const options: TaskLoopOptions = { runtime, task, state: 'in_dev', agent, maxIterations: 5 };
 */
export interface TaskLoopOptions {
  runtime: SessionRuntime;
  task: DagTask;
  /** The task state the loop works in; the session is created for it. */
  state: TaskState;
  agent: TaskAgent;
  /** Default: the state's owner, {@link agentForTaskState}. */
  agentType?: AgentType;
  /** Iterations `run()` may make in this loop (default 10). */
  maxIterations?: number;
  /** The user message of each request. Default: {@link defaultTaskPrompt}. */
  prompt?: (input: { iteration: number; task: DagTask; state: TaskState }) => string;
  /** Feature and DAG facts for the session context ({@link taskContext}). */
  dag?: DagView;
  /** Description of a new session; default the agent type's. */
  agentDescription?: AgentDescription;
  /**
   * Goals a new session's checkpoint starts with (version 0). Default: for the `planning` state,
   * the feature's goals from `dag` ({@link featureGoalsOf}: `featureGoals`, or the lines of
   * `featureGoal`); none for other states (their context shows the feature's goal).
   */
  goals?: string[];
}
