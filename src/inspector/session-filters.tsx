/**
 * The session list's filters: feature, agent type, task state, machine state.
 */
import { useId } from 'react';
import type { SessionInfo } from '../runtime/types.js';
import { valueOf } from './dom.js';
import { FEATURE_SESSIONS, filterOptions, type SessionFilterValues } from './filters.js';

/**
 * Props of {@link SessionFilters}.
 * @example const props: SessionFiltersProps = { sessions, value: NO_FILTERS, onChange: setFilters };
 */
export interface SessionFiltersProps {
  /** All sessions: the choices are taken from them. */
  sessions: readonly SessionInfo[];
  value: SessionFilterValues;
  onChange(value: SessionFilterValues): void;
}

const FIELDS: Array<[keyof SessionFilterValues, string, keyof ReturnType<typeof filterOptions>]> = [
  ['feature', 'Feature', 'features'],
  ['agentType', 'Agent type', 'agentTypes'],
  ['taskState', 'Task state', 'taskStates'],
  ['state', 'Machine state', 'states'],
];

/**
 * Four labelled selects (feature, agent type, task state, machine state), each with "any".
 * @example <SessionFilters sessions={all} value={filters} onChange={setFilters} />
 */
export function SessionFilters({ sessions, value, onChange }: SessionFiltersProps) {
  const options = filterOptions(sessions);
  const id = useId();
  return (
    <fieldset className="dgi-filters">
      <legend>Filter</legend>
      {FIELDS.map(([field, label, list]) => (
        <div key={field}>
          <label htmlFor={`${id}-${field}`}>{label}</label>
          <select
            id={`${id}-${field}`}
            name={field}
            value={value[field]}
            onChange={(e) => onChange({ ...value, [field]: valueOf(e.target) })}
          >
            <option value="">any</option>
            {options[list].map((option) => (
              <option key={option} value={option}>
                {option === FEATURE_SESSIONS ? 'feature sessions (no task)' : option}
              </option>
            ))}
          </select>
        </div>
      ))}
    </fieldset>
  );
}
