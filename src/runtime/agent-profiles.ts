/**
 * Agent types and the task states they serve: DAGent's five with their default descriptions,
 * limits and routing, and the registry of a runtime, to which a host adds its own agent types
 * and task states through `createSessionRuntime({ agents })`.
 */
import { SessionError, describeError } from '../core/errors.js';
import { assertSafeSegment } from '../core/ids.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import { textOf } from './fixed-counts.js';
import { countFixedPartsFit } from './fixed-parts-check.js';
import { resolveLimits } from './limits.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { validateAgentDescription } from './validate-arguments.js';
import {
  AGENT_TYPES,
  TASK_STATES,
  type AgentDescription,
  type AgentType,
  type DefaultAgentType,
  type Limits,
  type SessionKey,
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
export const DEFAULT_AGENT_PROFILES: Readonly<Record<DefaultAgentType, AgentProfile>> = {
  pm: {
    description: {
      role:
        'Product manager agent: turns a feature request into a plan of tasks with dependencies, ' +
        'answers questions about scope, and keeps the feature conversation.',
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
      role:
        'Harness agent: reviews the intentions of task agents, ' +
        'approves or rejects them, and keeps them within the plan.',
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
 * DAGent's routing: the agent type whose session serves one of DAGent's task states, the one a
 * task controller uses to pick the session key (`{ type: 'task', agentType:
 * agentForTaskState(state), ... }`). A runtime's own routing, with the states a host registered,
 * is `runtime.agents.taskStates`.
 *
 * @param state - One of `planning`, `in_dev`, `in_qa`, `in_review`, `merging`.
 * @returns `pm`, `dev`, `qa`, `harness` or `merge`.
 * @throws SessionError `INVALID_ARGUMENT` for any other state (`merged`, `ready`, a host's own...).
 * @example
 * ```ts
 * agentForTaskState('in_review') // 'harness'
 * ```
 */
export function agentForTaskState(state: TaskState): DefaultAgentType {
  for (const type of AGENT_TYPES) {
    if (DEFAULT_AGENT_PROFILES[type].taskStates.includes(state)) return type;
  }
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `task state ${JSON.stringify(state)} is not one of DAGent's states ` +
      `with sessions (${TASK_STATES.join(', ')}); a runtime's own routing, ` +
      `with the states its host registered, is runtime.agents.taskStates`,
  );
}

/**
 * What a host says about one agent type in `createSessionRuntime({ agents })`: for one of
 * DAGent's five, any of it overrides or extends the defaults; an agent type of its own needs a
 * `description`.
 *
 * @example
 * ```ts
 * const researcher: AgentOptions = {
 *   description: { role: 'Researcher: reads the code base and answers questions with sources.' },
 *   limits: { maxTokens: 200_000 },
 *   taskStates: ['researching'],
 * };
 * ```
 */
export interface AgentOptions {
  /** Written into its new sessions. Needed for an agent type of the host's own. */
  description?: AgentDescription;
  /** Over the runtime's `limits` (and the type's defaults). */
  limits?: Partial<Limits>;
  /**
   * Task states this agent type serves, besides its defaults: each becomes a task state with
   * sessions (`{ type: 'task', taskState }` keys), routed to this type. A state is served by one
   * type only; DAGent's five keep their routing.
   */
  taskStates?: readonly string[];
  /** Whether it keeps a feature-level conversation (informative; default: DAGent's, else true). */
  featureLevel?: boolean;
}

/**
 * The `agents` option of `createSessionRuntime`: DAGent's five by name (autocompleted), and any
 * other name a host registers (a safe id part: letters, digits, `.`, `-`, `_`).
 *
 * @example
 * const agents: AgentsOption = { pm: { limits: { compactAt: 0.7 } },
 *   researcher: { description: { role: 'Researcher' } } };
 */
export type AgentsOption = { [T in DefaultAgentType]?: AgentOptions } & {
  [type: string]: AgentOptions | undefined;
};

/** @internal A resolved profile: description and limits as the runtime uses them. */
export type ResolvedProfile = AgentProfile & { resolved: Limits };

/**
 * The agent types and task states a runtime knows: DAGent's five and five, and those its host
 * registered. Frozen, null-prototype records: a name from outside cannot reach `__proto__`.
 *
 * @example
 * ```ts
 * runtime.agents.types // ['pm', 'dev', 'qa', 'harness', 'merge', 'researcher']
 * runtime.agents.taskStates.researching // 'researcher'
 * ```
 */
export interface AgentRegistry {
  /** Every agent type, DAGent's first, then the host's in the order given. */
  readonly types: readonly AgentType[];
  /** Every task state with sessions, and the agent type that serves it. */
  readonly taskStates: Readonly<Record<TaskState, AgentType>>;
}

/** @internal The registry with the resolved profile of each type. */
export interface ResolvedAgents extends AgentRegistry {
  profile(type: string): ResolvedProfile | undefined;
}

function invalid(message: string, cause?: unknown): never {
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `createSessionRuntime: agents: ${message}`,
    cause === undefined
      ? {}
      : { cause, ...(cause instanceof SessionError ? { details: cause.details } : {}) },
  );
}

/** The message of an error from another check, without its `[dagent-sessions] [origin] ` prefix. */
function reasonOf(error: unknown): string {
  return describeError(error).replace(/^\[dagent-sessions\] \[\w+\] /, '');
}

function safeName(value: unknown, what: string): string {
  try {
    assertSafeSegment(value, what);
  } catch (error) {
    invalid(reasonOf(error), error);
  }
  return value;
}

const AGENT_OPTION_NAMES = optionNames({
  description: true,
  limits: true,
  taskStates: true,
  featureLevel: true,
} satisfies Record<keyof AgentOptions, true>);

function optionsOf(type: string, value: unknown, maxBytes: number | undefined): AgentOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(`${type} must be an object like { description, limits, taskStates }`);
  const o = value as Record<string, unknown>;
  checkOptionNames(o, AGENT_OPTION_NAMES, (what) => invalid(`${type}: ${what}`));
  // A copy: the caller's options object may change after the runtime is created. The rule is that
  // of every agent description (createSession, setAgentDescription), its message naming the type.
  let description: AgentDescription | undefined;
  if (o.description !== undefined) {
    try {
      description = validateAgentDescription(o.description, `${type}.description`, maxBytes);
    } catch (error) {
      invalid(reasonOf(error), error);
    }
  }
  if (o.taskStates !== undefined && !Array.isArray(o.taskStates))
    invalid(`${type}.taskStates must be a list of task state names`);
  if (o.featureLevel !== undefined && typeof o.featureLevel !== 'boolean')
    invalid(`${type}.featureLevel must be true or false`);
  return { ...(o as AgentOptions), ...(description === undefined ? {} : { description }) };
}

type ProfileOptions = { limits?: Partial<Limits>; agents?: AgentsOption; maxMessageBytes?: number };

/**
 * @internal The registry of a runtime: DAGent's profiles with the host's overrides, the host's
 * own agent types, and the routing of every task state. Limits resolve with precedence profile
 * defaults < runtime `limits` < `agents[type].limits`. Descriptions are not counted here (see
 * {@link resolveCheckedAgentProfiles}).
 * @throws SessionError `INVALID_ARGUMENT` naming the agent type and the field that is wrong.
 */
export function resolveAgentProfiles(options: ProfileOptions): ResolvedAgents {
  return resolveProfiles(options).agents;
}

/**
 * @internal {@link resolveAgentProfiles}, each description the host gave, or whose limits it set,
 * then counted and held to the room its limits leave the fixed parts (`fixedPartsRoom`): refused
 * here rather than at every createSession of the type (correction 1: none learned yet). A long
 * description is counted off the main thread, or refused uncounted when too long by far
 * (`countFixedPartsFit`), so that the host's event loop keeps turning while the runtime starts.
 * @throws SessionError `INVALID_ARGUMENT` naming the agent type and the field that is wrong, or
 *   (`details.reason: 'fixed-parts-too-large'`) the description that leaves no room.
 */
export async function resolveCheckedAgentProfiles(
  options: ProfileOptions,
  estimator: TokenEstimator,
): Promise<ResolvedAgents> {
  const { agents, counted } = resolveProfiles(options);
  for (const type of counted) {
    const profile = agents.profile(type)!;
    await countFixedPartsFit(estimator, {
      where: `createSessionRuntime: agents: ${type}`,
      part: `${type}.description`,
      description: textOf('description', profile.description),
      context: 0,
      limits: profile.resolved,
      correction: 1,
    });
  }
  return agents;
}

/** The registry, and the agent types whose description is to be counted (see above). */
function resolveProfiles(options: ProfileOptions): { agents: ResolvedAgents; counted: string[] } {
  const agents = options.agents;
  if (agents !== undefined && (typeof agents !== 'object' || agents === null || Array.isArray(agents)))
    invalid('must be an object keyed by agent type, like { researcher: { description: { role: "..." } } }');
  const given = Object.entries(agents ?? {}) as [string, unknown][];
  const profiles = new Map<string, ResolvedProfile>();
  const counted: string[] = [];
  const taskStates = Object.create(null) as Record<string, AgentType>;
  for (const type of AGENT_TYPES)
    for (const state of DEFAULT_AGENT_PROFILES[type].taskStates) taskStates[state] = type;
  const custom = given.map(([type]) => type).filter((t) => !(AGENT_TYPES as readonly string[]).includes(t));
  for (const type of [...AGENT_TYPES, ...custom]) {
    safeName(type, 'agent type');
    const own = optionsOf(type, agents?.[type], options.maxMessageBytes);
    const base: AgentProfile | undefined = (DEFAULT_AGENT_PROFILES as Record<string, AgentProfile>)[type];
    if (!base && own.description === undefined)
      invalid(
        `${type} is an agent type of your own: give it a description, ` +
          `like { description: { role: "${type}: what it does" } }`,
      );
    const states: TaskState[] = [...(base?.taskStates ?? [])];
    for (const state of own.taskStates ?? []) {
      safeName(state, `${type}.taskStates`);
      const owner = taskStates[state];
      if (owner !== undefined && owner !== type)
        invalid(
          `task state "${state}" is served by ${owner} already; each task state is served by one agent type`,
        );
      taskStates[state] = type;
      if (!states.includes(state)) states.push(state);
    }
    const limits = { ...base?.limits, ...options.limits, ...own.limits };
    let resolved: Limits;
    try {
      resolved = resolveLimits(limits);
    } catch (error) {
      invalid(`${type}.limits: ${reasonOf(error)}`, error);
    }
    const description = own.description ?? base!.description;
    if (own.description !== undefined || Object.keys(limits).length > 0) counted.push(type);
    profiles.set(type, {
      description,
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      taskStates: states,
      featureLevel: own.featureLevel ?? base?.featureLevel ?? true,
      resolved,
    });
  }
  const registry: ResolvedAgents = {
    types: Object.freeze([...profiles.keys()]),
    taskStates: Object.freeze(taskStates),
    profile: (type) => profiles.get(type),
  };
  return { agents: registry, counted };
}

/**
 * @internal Refuses a key whose agent type or task state the runtime does not know: a typo
 * (`dve`) would otherwise create a session no profile serves.
 * @throws SessionError `INVALID_KEY` naming the known ones and how to register one.
 */
export function assertRegistered(agents: AgentRegistry, key: SessionKey): SessionKey {
  if (!agents.types.includes(key.agentType))
    throw new SessionError(
      'INVALID_KEY',
      'runtime',
      `agent type ${JSON.stringify(key.agentType)} is not registered with this runtime; ` +
        `the agent types are ${agents.types.join(', ')}. Register one with createSessionRuntime({ agents: ` +
        `{ ${key.agentType}: { description: { role: '...' } } } })`,
    );
  if (key.type === 'task' && agents.taskStates[key.taskState] === undefined)
    throw new SessionError(
      'INVALID_KEY',
      'runtime',
      `task state ${JSON.stringify(key.taskState)} is not registered with this runtime; ` +
        `the task states with sessions are ${Object.keys(agents.taskStates).join(', ')}. ` +
        `Register one with the agent type that serves it: createSessionRuntime({ agents: ` +
        `{ <type>: { taskStates: ['${key.taskState}'] } } })`,
    );
  return key;
}
