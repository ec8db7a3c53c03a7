/**
 * The session list.
 */
import type { SessionInfo } from '../runtime/types.js';
import { sessionLabel } from './filters.js';
import { formatTokens, gaugeLevel } from './gauge.js';
import { StateBadge } from './session-status.js';

/**
 * Props of {@link SessionList}.
 * @example const props: SessionListProps = { sessions, selectedId: null, onSelect: setSelected };
 */
export interface SessionListProps {
  /** The sessions to list (already filtered), in order. */
  sessions: readonly SessionInfo[];
  selectedId: string | null;
  onSelect(id: string): void;
}

/**
 * The sessions as a list of buttons (the selected one `aria-current`), each with its label,
 * live machine state, checkpoint version and live tokens against its limit.
 *
 * @example <SessionList sessions={filterSessions(all, filters)} selectedId={id} onSelect={select} />
 */
export function SessionList({ sessions, selectedId, onSelect }: SessionListProps) {
  if (sessions.length === 0) return <p className="dgi-muted dgi-list-empty">No sessions match.</p>;
  return (
    <ul className="dgi-list" aria-label="Sessions">
      {sessions.map((s) => {
        const level = gaugeLevel(s.stats.lastRequestTokens, s.limits.maxTokens);
        return (
          <li key={s.id}>
            <button
              type="button"
              className="dgi-list__item"
              data-session-id={s.id}
              aria-current={s.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(s.id)}
            >
              <span className="dgi-list__label">{sessionLabel(s)}</span>
              <span className="dgi-list__meta">
                <StateBadge state={s.state} />
                <span>v{s.checkpointVersion}</span>
                <span className={`dgi-level--${level}`}>
                  {formatTokens(s.stats.lastRequestTokens)} / {formatTokens(s.limits.maxTokens)}
                </span>
                {s.status === 'archived' && <span className="dgi-tag">archived</span>}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
