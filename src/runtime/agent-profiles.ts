/**
 * Default descriptions and limits per agent type. A host overrides any of them through
 * `createSessionRuntime({ agents })`.
 */
import type { AgentDescription, AgentType, Limits } from '../core/types.js';

/** What the runtime knows of one agent type. */
export interface AgentProfile {
  description: AgentDescription;
  /** Overrides of the runtime's limits for this agent type. */
  limits?: Partial<Limits>;
}

/** The built-in profiles. */
export const DEFAULT_AGENT_PROFILES: Readonly<Record<AgentType, AgentProfile>> = {
  pm: {
    description: {
      role: 'Product manager agent: turns a feature request into a plan of tasks with dependencies, answers questions about scope, and keeps the feature conversation.',
      instructions: 'Keep the plan consistent with decisions already taken. Record decisions and open questions explicitly.',
    },
  },
  dev: {
    description: {
      role: 'Developer agent: implements one task in the repository, runs the checks, and reports what changed.',
      instructions: 'Work in small verified steps. Say which files you touched and which commands you ran, with their outcome.',
    },
  },
  qa: {
    description: {
      role: 'QA agent: verifies a task against its acceptance criteria and reports failures with reproduction steps.',
      instructions: 'Report each check as passed or failed, with the evidence.',
    },
  },
  harness: {
    description: {
      role: 'Harness agent: reviews the intentions of task agents, approves or rejects them, and keeps them within the plan.',
      instructions: 'Approve only what the plan allows; explain every rejection.',
    },
  },
  merge: {
    description: {
      role: 'Merge agent: integrates a finished task branch, resolves conflicts and confirms the build is green.',
      instructions: 'Never drop changes of either side without saying so.',
    },
  },
};
