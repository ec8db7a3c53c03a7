/**
 * A Ralph loop over one task state: every iteration starts from a fresh request (agent
 * description + context + checkpoint, never the previous iteration's messages), runs the host's
 * agent, appends what it said, records its verification checks in the checkpoint and clears the
 * live messages, which stay readable in the archive. The clear commits the iteration's outcome
 * into the checkpoint's ledger (files changed, commands and how they ended, checks, why it
 * stopped, decisions), so the next fresh request knows what every earlier iteration did.
 */
import { createOneAtATime } from '../core/one-at-a-time.js';
import { SessionError, describeError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { AgentType, CheckResult, Message, MessageInput, SessionKey, TaskState } from '../core/types.js';
import { agentForTaskState } from '../runtime/agent-profiles.js';
import type { ClearResult } from '../runtime/types.js';
import { allPass, checkOutput, stopReasonOf, type CheckedOutput } from './task-agent-output.js';
import { goalsCheckpoint } from './feature-session.js';
import { withSession, type DagTask } from './task.js';
import { featureGoalsOf, taskContext } from './task-context.js';
import type { TaskLoopOptions } from './task-loop-types.js';

export type { TaskAgent, TaskAgentInput, TaskAgentOutput, TaskLoopOptions } from './task-loop-types.js';

/**
 * The check id under which a failure of the agent function itself is recorded.
 *
 * @example const agentFailed = checkpoint.checks?.some((c) => c.checkId === AGENT_CHECK_ID && !c.passed);
 */
export const AGENT_CHECK_ID = 'agent';

/**
 * One iteration.
 *
 * @example if (result.error) console.error(result.error.message);
 */
export interface IterationResult {
  iteration: number;
  /** The messages appended (the prompt first), as persisted. */
  messages: Message[];
  /** The checks this iteration recorded, with their `at`. */
  checks: CheckResult[];
  /** The agent said the state's work is done. */
  done: boolean;
  /** Why it stopped, as recorded in the checkpoint (`checks failed`, `every check passes`...). */
  stopReason: string;
  /** Every check in the checkpoint passes (and there is at least one). */
  passed: boolean;
  /** The agent function's failure (recorded as the failed check {@link AGENT_CHECK_ID}), or null. */
  error: { message: string; cause: unknown } | null;
  /** Token estimate of the request the agent got. */
  requestTokens: number;
  cleared: ClearResult;
}

/**
 * How `run()` ended: `done` (the agent said so), `checks-passed` (every recorded check passes),
 * `max-iterations`, or `agent-error` (the agent function threw or returned something malformed).
 *
 * @example const ok = result.outcome === 'done' || result.outcome === 'checks-passed';
 */
export type TaskLoopOutcome = 'done' | 'checks-passed' | 'max-iterations' | 'agent-error';

/**
 * What `run()` returns.
 *
 * @example for (const it of result.iterations) console.log(it.iteration, it.checks);
 */
export interface TaskLoopResult {
  sessionId: string;
  state: TaskState;
  agentType: AgentType;
  outcome: TaskLoopOutcome;
  /** Every iteration of this run, with the checks each one recorded. */
  iterations: IterationResult[];
  /** The checks in the checkpoint at the end (the latest result per check id). */
  checks: CheckResult[];
  passed: boolean;
  error: IterationResult['error'];
}

/**
 * A loop over one task state.
 *
 * @example const { outcome } = await loop.run();
 */
export interface TaskLoop {
  readonly sessionId: string;
  readonly state: TaskState;
  readonly agentType: AgentType;
  /** The task with this state's session recorded ({@link withSession}). */
  readonly task: DagTask;
  /** Iterations made so far by this loop (numbers go on from the session's earlier ones). */
  readonly iterations: number;
  /** Iterates until done, every check passes, the agent fails, or `maxIterations`. */
  run(): Promise<TaskLoopResult>;
  /** One iteration. Calls are queued, never run side by side. */
  iterate(): Promise<IterationResult>;
}

/**
 * The default user message of an iteration.
 *
 * @param input - The iteration, the task and the state.
 * @returns The prompt.
 * @example defaultTaskPrompt({ iteration: 2, task, state: 'in_dev' }) // 'Iteration 2 of task "parser" ...'
 */
export function defaultTaskPrompt(input: { iteration: number; task: DagTask; state: TaskState }): string {
  return (
    `Iteration ${input.iteration} of task "${input.task.id}" (${input.task.title}) ` +
    `in state ${input.state}. Continue from the checkpoint: do the next step, ` +
    `run the checks, and report what you changed and each check's outcome.`
  );
}

const TASK_LOOP_OPTIONS = optionNames({
  runtime: true,
  task: true,
  state: true,
  agent: true,
  agentType: true,
  maxIterations: true,
  prompt: true,
  dag: true,
  agentDescription: true,
  goals: true,
} satisfies Record<keyof TaskLoopOptions, true>);

/**
 * Creates (or reopens) the session of one task state and returns its loop. The session key is
 * `{ type: 'task', agentType, featureId, taskId, taskState: state }`; a new session gets the
 * task's context ({@link taskContext}, `taskState` = `state`) and the agent description; a
 * reopened one gets its context refreshed when the task changed.
 *
 * Each iteration: live messages left over (a crash before the last clear) are archived first;
 * the request is built fresh (`flattened`); the prompt is appended (marked `metadata.harness`: not
 * the user's words), then the agent runs and its messages are appended; its checks are recorded
 * in the checkpoint (the runtime stamps `at`, a later result of the same check id replaces the
 * earlier one; each iteration's own results are in its {@link IterationResult}); the live
 * messages are cleared into the archive, and the same commit records in the checkpoint's ledger
 * what the iteration did: the files its tool calls changed and the commands they ran with their
 * outcome (or the agent's `files` and `commands`), the checks (a failed check is an open problem
 * until it passes), why it stopped, and its decisions. The next request shows it under
 * `### Iterations` and the ledger's other sections.
 *
 * A new `planning` session starts with the feature's goals in its checkpoint (`goals`).
 *
 * A failing agent (it throws, or returns something malformed) is recorded as the failed check
 * `agent` with the error, what was appended stays, the messages are cleared, and `run()` stops
 * with outcome `agent-error` (nothing is thrown). A later successful iteration records `agent`
 * as passed again.
 *
 * @param options - Runtime, task, state, agent function and loop settings.
 * @returns The loop, its session created.
 * @throws SessionError `INVALID_ARGUMENT` for bad options (a name none of them included) or a state without sessions,
 *   `INVALID_KEY` for task ids unfit for a key, and whatever the runtime throws (closed runtime,
 *   read-only root); `run()` and `iterate()` throw only the runtime's errors.
 * @example
 * ```ts
 * const loop = await createTaskLoop({ runtime, task, state: 'in_dev', agent: myDevAgent });
 * const result = await loop.run();
 * task = loop.task; // sessions.in_dev and currentSession set
 * ```
 */
export async function createTaskLoop(options: TaskLoopOptions): Promise<TaskLoop> {
  // A misspelt `maxIteratons` would run the default 10 iterations without a word.
  checkOptionNames(
    options,
    TASK_LOOP_OPTIONS,
    (message) => new SessionError('INVALID_ARGUMENT', 'runtime', `createTaskLoop: ${message}`),
  );
  const { runtime, state, agent } = options;
  if (typeof agent !== 'function')
    throw new SessionError('INVALID_ARGUMENT', 'runtime', 'createTaskLoop needs an agent function');
  const maxIterations = options.maxIterations ?? 10;
  if (!(Number.isInteger(maxIterations) && maxIterations > 0)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `createTaskLoop: maxIterations must be a positive integer, got ${String(maxIterations)}`,
    );
  }
  // The runtime's routing knows the states its host registered; DAGent's explains any other.
  const agentType = options.agentType ?? runtime.agents.taskStates[state] ?? agentForTaskState(state);
  const key: SessionKey = {
    type: 'task',
    agentType,
    featureId: options.task.featureId,
    taskId: options.task.id,
    taskState: state,
  };
  const context = taskContext({ ...options.task, state }, options.dag);
  const goals = options.goals ?? (state === 'planning' ? featureGoalsOf(options.dag) : []);
  if (!Array.isArray(goals) || !goals.every((goal) => typeof goal === 'string'))
    throw new SessionError('INVALID_ARGUMENT', 'runtime', 'createTaskLoop: goals must be a list of strings');
  const checkpoint = goalsCheckpoint(goals);
  const info = await runtime.createSession(key, {
    context,
    ...(checkpoint ? { checkpoint } : {}),
    ...(options.agentDescription ? { agentDescription: options.agentDescription } : {}),
  });
  const sessionId = info.id;
  if (JSON.stringify(await runtime.getContext(sessionId)) !== JSON.stringify(context))
    await runtime.setContext(sessionId, context);
  const task = withSession(options.task, state, sessionId);
  const prompt = options.prompt ?? defaultTaskPrompt;
  // Numbers go on from the iterations the session's checkpoint recorded (a reopened loop).
  const before = (await runtime.getCheckpoint(sessionId))?.ledger?.iterations ?? 0;
  let iterations = 0;
  const oneAtATime = createOneAtATime();

  async function once(): Promise<IterationResult> {
    const count = ++iterations;
    const iteration = before + count;
    if ((await runtime.getMessages(sessionId)).length > 0) await runtime.clearMessages(sessionId);
    const text = prompt({ iteration, task, state });
    const request = await runtime.buildRequest(sessionId, text, { format: 'flattened' });
    const tag = (m: MessageInput): MessageInput => ({
      ...m,
      metadata: { taskLoop: { taskId: task.id, state, iteration }, ...m.metadata },
    });
    // The prompt is the loop's, not the user's words: the ledger does not record it as a request.
    const messages = [
      await runtime.addMessage(sessionId, tag({ role: 'user', content: text, metadata: { harness: true } })),
    ];
    let output: CheckedOutput | null = null;
    let error: IterationResult['error'] = null;
    try {
      output = checkOutput(await agent({ request, iteration, task, state, sessionId }));
    } catch (cause) {
      error = { message: describeError(cause), cause };
    }
    for (const m of output?.messages ?? []) messages.push(await runtime.addMessage(sessionId, tag(m)));
    let checks = output?.checks ?? [
      { checkId: AGENT_CHECK_ID, passed: false, error: error?.message ?? 'the agent failed' },
    ];
    if (output) {
      const before = (await runtime.getCheckpoint(sessionId))?.checks ?? [];
      const failedBefore = before.some((c) => c.checkId === AGENT_CHECK_ID && !c.passed);
      if (failedBefore && !checks.some((c) => c.checkId === AGENT_CHECK_ID))
        checks = [...checks, { checkId: AGENT_CHECK_ID, passed: true }];
    }
    const checkpoint =
      checks.length > 0
        ? await runtime.recordChecks(sessionId, checks)
        : await runtime.getCheckpoint(sessionId);
    const ids = new Set(checks.map((c) => c.checkId));
    const recorded = (checkpoint?.checks ?? []).filter((c) => ids.has(c.checkId));
    const done = output?.done ?? false;
    const passed = error === null && allPass(checkpoint?.checks);
    const stopReason = stopReasonOf({
      error,
      done,
      passed,
      checks,
      last: count === maxIterations,
      maxIterations,
    });
    // One commit: the messages archived, their facts and the iteration's outcome in the ledger.
    const decisions = output?.decisions ?? [];
    const cleared = await runtime.clearMessages(sessionId, {
      iteration: {
        iteration,
        ...output?.record,
        checks: checks.map(({ checkId, passed: ok, error: why }) => ({
          checkId,
          passed: ok,
          ...(why === undefined ? {} : { error: why }),
        })),
        stopReason,
      },
      ...(decisions.length > 0 ? { decisions } : {}),
    });
    return {
      iteration,
      messages,
      checks: recorded,
      done,
      stopReason,
      passed,
      error,
      requestTokens: request.totalTokens,
      cleared,
    };
  }

  function iterate(): Promise<IterationResult> {
    return oneAtATime(once);
  }

  async function run(): Promise<TaskLoopResult> {
    const results: IterationResult[] = [];
    let outcome: TaskLoopOutcome = 'max-iterations';
    while (iterations < maxIterations) {
      const result = await iterate();
      results.push(result);
      if (result.error) outcome = 'agent-error';
      else if (result.done) outcome = 'done';
      else if (result.passed) outcome = 'checks-passed';
      else continue;
      break;
    }
    const checks = (await runtime.getCheckpoint(sessionId))?.checks ?? [];
    const last = results[results.length - 1];
    return {
      sessionId,
      state,
      agentType,
      outcome,
      iterations: results,
      checks,
      passed: allPass(checks),
      error: last?.error ?? null,
    };
  }

  return {
    sessionId,
    state,
    agentType,
    task,
    get iterations() {
      return iterations;
    },
    run,
    iterate,
  };
}
