/**
 * Default descriptions, limits and task states per agent type, and the routing of a task state
 * to the agent type that owns its session. A host overrides descriptions and limits through
 * `createSessionRuntime({ agents })`; the routing is fixed.
 */
import { SessionError } from '../core/errors.js';
import { resolveLimits } from './limits.js';
import { validatePlainObject } from './validate.js';
import {
  TASK_STATES,
  type AgentDescription,
  type AgentType,
  type Limits,
  type TaskState,
} from '../core/types.js';

/**
 * What the runtime knows of one agent type.
 *
 * @example
 * ```ts
 * const qa: AgentProfile = { description: { role: 'QA agent' }, taskStates: ['in_qa'], featureLevel: false };
 * ```
 */
export interface AgentProfile {
  description: AgentDescription;
  /**
   * Default limits of this agent type. The runtime-wide `limits` option wins over them, and
   * `createSessionRuntime({ agents: { pm: { limits } } })` wins over both.
   */
  limits?: Partial<Limits>;
  /**
   * The task states whose sessions this agent type owns (each state is owned by exactly one type;
   * see {@link agentForTaskState}). Another type may still keep a session in such a state under
   * its own key, as the harness does when it reviews a developer's intentions during `in_dev`.
   */
  taskStates: readonly TaskState[];
  /** Whether the agent type keeps a feature-level conversation (`{ type: 'feature' }` key). */
  featureLevel: boolean;
}

/**
 * The built-in profiles.
 *
 * Routing: `planning` → pm, `in_dev` → dev, `in_qa` → qa, `in_review` → harness, `merging` →
 * merge. The pm also keeps the feature-level conversation. The harness owns `in_review` (it
 * checks the finished work against the plan) and reviews intentions during `in_dev` through a
 * session of its own (`agentType: 'harness', taskState: 'in_dev'`).
 *
 * Limits: only the pm differs, compacting at 80% of the window instead of 90%. Its feature
 * conversation is the one that lives as long as the feature (task loops clear their live messages
 * every iteration), so each compaction folds a smaller slice and the request keeps headroom for
 * the DAG dumps and plans pasted into it. Only a fraction is set, so that the profile stays valid
 * for any window a host chooses.
 *
 * @example
 * ```ts
 * DEFAULT_AGENT_PROFILES.qa.taskStates // ['in_qa']
 * ```
 */
export const DEFAULT_AGENT_PROFILES: Readonly<Record<AgentType, AgentProfile>> = {
  pm: {
    description: {
      role: 'Product manager agent: turns a feature request into a plan of tasks with dependencies, answers questions about scope, and keeps the feature conversation.',
      instructions:
        'Keep the plan consistent with decisions already taken. Record decisions and open questions explicitly.',
    },
    limits: { compactAt: 0.8 },
    taskStates: ['planning'],
    featureLevel: true,
  },
  dev: {
    description: {
      role: 'Developer agent: implements one task in the repository, runs the checks, and reports what changed.',
      instructions:
        'Work in small verified steps. Say which files you touched and which commands you ran, with their outcome.',
    },
    taskStates: ['in_dev'],
    featureLevel: false,
  },
  qa: {
    description: {
      role: 'QA agent: verifies a task against its acceptance criteria and reports failures with reproduction steps.',
      instructions: 'Report each check as passed or failed, with the evidence.',
    },
    taskStates: ['in_qa'],
    featureLevel: false,
  },
  harness: {
    description: {
      role: 'Harness agent: reviews the intentions of task agents, approves or rejects them, and keeps them within the plan.',
      instructions: 'Approve only what the plan allows; explain every rejection.',
    },
    taskStates: ['in_review'],
    featureLevel: false,
  },
  merge: {
    description: {
      role: 'Merge agent: integrates a finished task branch, resolves conflicts and confirms the build is green.',
      instructions: 'Never drop changes of either side without saying so.',
    },
    taskStates: ['merging'],
    featureLevel: false,
  },
};

/**
 * The agent type whose session serves a task state: the routing a task controller uses to pick
 * the session key (`{ type: 'task', agentType: agentForTaskState(state), ... }`), and so the
 * description and limits the supervisor gives that session's actor.
 *
 * @param state - A task state with sessions: `planning`, `in_dev`, `in_qa`, `in_review`, `merging`.
 * @returns `pm`, `dev`, `qa`, `harness` or `merge`.
 * @throws SessionError `INVALID_ARGUMENT` for a state without sessions (`merged`, `ready`...).
 * @example
 * ```ts
 * agentForTaskState('in_review') // 'harness'
 * ```
 */
export function agentForTaskState(state: TaskState): AgentType {
  for (const [type, profile] of Object.entries(DEFAULT_AGENT_PROFILES) as [AgentType, AgentProfile][]) {
    if (profile.taskStates.includes(state)) return type;
  }
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `task state ${JSON.stringify(state)} has no sessions; the states with sessions are ${TASK_STATES.join(', ')}`,
  );
}

/**
 * @internal The profiles of a runtime: descriptions (the runtime's overrides or the defaults) and
 * limits resolved with precedence profile defaults < runtime `limits` < `agents[type].limits`.
 */
export function resolveAgentProfiles(options: {
  limits?: Partial<Limits>;
  agents?: Partial<Record<AgentType, { description?: AgentDescription; limits?: Partial<Limits> }>>;
}): Record<AgentType, AgentProfile & { resolved: Limits }> {
  return Object.fromEntries(
    (Object.keys(DEFAULT_AGENT_PROFILES) as AgentType[]).map((type) => {
      const override = options.agents?.[type];
      // A copy: the caller's options object may change after the runtime is created.
      const description =
        override?.description === undefined
          ? DEFAULT_AGENT_PROFILES[type].description
          : (validatePlainObject(override.description, `agents.${type}.description`) as AgentDescription);
      // Precedence: the library's profile defaults, then the runtime's limits, then this type's.
      const limits = { ...DEFAULT_AGENT_PROFILES[type].limits, ...options.limits, ...override?.limits };
      return [
        type,
        { ...DEFAULT_AGENT_PROFILES[type], description, limits, resolved: resolveLimits(limits) },
      ];
    }),
  ) as Record<AgentType, AgentProfile & { resolved: Limits }>;
}
