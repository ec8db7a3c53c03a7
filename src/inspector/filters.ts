/**
 * The session list's filters: by feature, agent type, task state and machine state. Pure.
 */
import type { SessionMachineState } from '../core/types.js';
import type { SessionInfo } from '../runtime/types.js';

/**
 * What the list is filtered by; an empty string means "any".
 * @example const filters: SessionFilterValues = { ...NO_FILTERS, agentType: 'dev' };
 */
export interface SessionFilterValues {
  /** A `featureId`. */
  feature: string;
  /** An agent type: `pm`, `dev`, `qa`, `harness`, `merge`. */
  agentType: string;
  /** A task state (`in_dev`...), or {@link FEATURE_SESSIONS} for the feature sessions (no task). */
  taskState: string;
  /** A machine state: `idle`, `appending`, `compacting`, `failed`, `loading`, `closed`. */
  state: string;
}

/**
 * Filters that keep every session.
 * @example filterSessions(sessions, NO_FILTERS).length === sessions.length // true
 */
export const NO_FILTERS: Readonly<SessionFilterValues> = Object.freeze({
  feature: '',
  agentType: '',
  taskState: '',
  state: '',
});

/**
 * The task-state filter value that keeps the feature sessions (which have no task state).
 * @example filterSessions(sessions, { ...NO_FILTERS, taskState: FEATURE_SESSIONS })
 */
export const FEATURE_SESSIONS = '(feature)';

/**
 * The machine states a session can report, in the order the filter offers them.
 * @example MACHINE_STATES.includes('compacting') // true
 */
export const MACHINE_STATES: readonly SessionMachineState[] = [
  'idle',
  'appending',
  'compacting',
  'failed',
  'loading',
  'closed',
];

/**
 * The sessions that match every filter that is set, in their given order.
 * @param sessions - What `api.list()` answered.
 * @param filters - The filter values; empty strings match anything.
 * @returns A new array; the sessions themselves are not copied.
 * @example filterSessions(await api.list(), { ...NO_FILTERS, feature: 'f1', agentType: 'qa' })
 */
export function filterSessions(
  sessions: readonly SessionInfo[],
  filters: SessionFilterValues,
): SessionInfo[] {
  return sessions.filter((s) => {
    if (filters.feature !== '' && s.key.featureId !== filters.feature) return false;
    if (filters.agentType !== '' && s.key.agentType !== filters.agentType) return false;
    if (filters.taskState !== '') {
      const taskState = s.key.type === 'task' ? s.key.taskState : FEATURE_SESSIONS;
      if (taskState !== filters.taskState) return false;
    }
    if (filters.state !== '' && s.state !== filters.state) return false;
    return true;
  });
}

/**
 * The values each filter can take for these sessions: distinct and sorted; machine states are
 * always all of {@link MACHINE_STATES}, since they change while the page is open.
 * @example filterOptions(sessions).features // ['f1', 'f2']
 */
export function filterOptions(sessions: readonly SessionInfo[]): {
  features: string[];
  agentTypes: string[];
  taskStates: string[];
  states: string[];
} {
  const distinct = (values: string[]) => [...new Set(values)].sort();
  const taskStates = distinct(sessions.flatMap((s) => (s.key.type === 'task' ? [s.key.taskState] : [])));
  return {
    features: distinct(sessions.map((s) => s.key.featureId)),
    agentTypes: distinct(sessions.map((s) => s.key.agentType)),
    taskStates: sessions.some((s) => s.key.type === 'feature')
      ? [FEATURE_SESSIONS, ...taskStates]
      : taskStates,
    states: [...MACHINE_STATES],
  };
}

/**
 * A short human label of a session: `f1 · pm` or `f1 / t1 · dev · in_dev`.
 * @example sessionLabel(info) // 'checkout / t3 · qa · in_qa'
 */
export function sessionLabel(session: Pick<SessionInfo, 'key'>): string {
  const { key } = session;
  return key.type === 'feature'
    ? `${key.featureId} · ${key.agentType}`
    : `${key.featureId} / ${key.taskId} · ${key.agentType} · ${key.taskState}`;
}
