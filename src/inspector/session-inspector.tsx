/**
 * The whole inspector page: filters and list on the left; the selected session's status, actions,
 * checkpoint, compaction history and history on the right; live through the event stream.
 */
import { useEffect, useRef, useState } from 'react';
import type { SessionAPI } from '../ipc/channels.js';
import { CheckpointViewer } from './checkpoint-viewer.js';
import { CheckpointDiffView } from './checkpoint-diff-view.js';
import { CompactionHistory } from './compaction-history.js';
import { CompactionProgress } from './compaction-progress.js';
import { filterSessions, NO_FILTERS, type SessionFilterValues } from './filters.js';
import { HistoryView } from './history-view.js';
import { SessionActions } from './session-actions.js';
import { SessionFilters } from './session-filters.js';
import { SessionList } from './session-list.js';
import { SessionStatus } from './session-status.js';
import { INSPECTOR_CSS } from './styles.js';
import { TokenTimeline } from './token-timeline-view.js';
import { useSessionInspector } from './use-session-inspector.js';

/**
 * Props of {@link SessionInspector}.
 * @example const props: SessionInspectorProps = { api: window.dagentSessions, initialSessionId: 'feature--f1--pm' };
 */
export interface SessionInspectorProps {
  /** The typed API: the Electron preload's `window.dagentSessions`, or `createSessionClient(url)`. */
  api: SessionAPI;
  /** The session selected at first (read once, on mount). */
  initialSessionId?: string | null;
  /** Called when the selection changes (the page keeps it in the URL). */
  onSelect?(id: string | null): void;
  /** Leave out the built-in `<style>` (the host styles the `dgi-` classes itself). */
  unstyled?: boolean;
  /** The heading; default "dagent-sessions inspector". */
  title?: string;
}

/**
 * The session inspector: every session (filterable by feature, agent type, task state and machine
 * state) and, for the selected one, its token gauge, live machine state and checkpoint version,
 * the actions (compact, clear, reset, export), the checkpoint, the compaction history and every
 * message with the compactions' cut points. Errors of any call are shown in a `role="alert"`
 * region. Updates come from `api.onEvent`; nothing polls.
 *
 * @example
 * ```tsx
 * import { createRoot } from 'react-dom/client';
 * import { SessionInspector } from 'dagent-sessions/react';
 * createRoot(document.getElementById('root')!).render(<SessionInspector api={window.dagentSessions} />);
 * ```
 */
export function SessionInspector({
  api,
  initialSessionId = null,
  onSelect,
  unstyled = false,
  title = 'dagent-sessions inspector',
}: SessionInspectorProps) {
  const model = useSessionInspector(api, { initialSessionId });
  const [filters, setFilters] = useState<SessionFilterValues>({ ...NO_FILTERS });
  const { select, selectedId, details, sessions } = model;
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  useEffect(() => onSelectRef.current?.(selectedId), [selectedId]);

  const all = sessions ?? [];
  const shown = filterSessions(all, filters);
  const selected = details && details.id === selectedId ? details : null;
  const archivedThroughSeq = selected
    ? Math.max(selected.info.archivedThroughSeq, selected.checkpoint?.compactionInfo.archivedThroughSeq ?? -1)
    : -1;
  const records = selectedId ? model.recordsOf(selectedId) : [];

  return (
    <div className="dgi-root">
      {!unstyled && <style>{INSPECTOR_CSS}</style>}
      <header className="dgi-top">
        <h1>{title}</h1>
        <span className="dgi-live" data-live={model.live}>
          {model.live ? 'live' : 'connecting…'}
        </span>
        <span className="dgi-muted">
          {sessions === null ? 'loading sessions…' : `${shown.length} of ${all.length} sessions`}
        </span>
      </header>
      <div className="dgi-alert" role="alert">
        {model.error && (
          <>
            <p>{model.error}</p>
            <button type="button" onClick={model.dismissError}>
              Dismiss
            </button>
          </>
        )}
      </div>
      <div className="dgi-layout">
        <aside className="dgi-sidebar">
          <SessionFilters sessions={all} value={filters} onChange={setFilters} />
          <SessionList sessions={shown} selectedId={selectedId} onSelect={select} />
        </aside>
        <main className="dgi-main">
          {selectedId === null ? (
            <p className="dgi-panel dgi-empty">Select a session to see its tokens, checkpoint and history.</p>
          ) : selected === null ? (
            <p className="dgi-panel dgi-empty">Loading {selectedId}…</p>
          ) : (
            <>
              <SessionStatus
                session={selected.info}
                estimate={selected.estimate}
                checkpoint={selected.checkpoint}
              />
              <CompactionProgress
                key={`p${selected.id}`}
                api={api}
                session={selected.info}
                progress={model.progressOf(selected.id)}
                onError={model.reportError}
              />
              <SessionActions
                key={selected.id}
                api={api}
                session={selected.info}
                onError={model.reportError}
                onDone={(_action, id) => void model.refresh(id)}
              />
              {selected.estimate && (
                <TokenTimeline
                  key={`t${selected.id}`}
                  history={selected.history}
                  records={records}
                  limit={selected.estimate.limit}
                  threshold={selected.estimate.threshold}
                  fixedTokens={
                    selected.estimate.breakdown.agentDescription +
                    selected.estimate.breakdown.context +
                    selected.estimate.breakdown.replyReserve
                  }
                />
              )}
              <div className="dgi-columns">
                <CheckpointViewer checkpoint={selected.checkpoint} />
                <CompactionHistory
                  records={records}
                  commits={selected.checkpoint?.version ?? selected.info.checkpointVersion}
                />
              </div>
              <CheckpointDiffView
                api={api}
                sessionId={selected.id}
                currentVersion={selected.checkpoint?.version ?? selected.info.checkpointVersion}
                onError={model.reportError}
              />
              <HistoryView
                key={`h${selected.id}`}
                history={selected.history}
                records={records}
                archivedThroughSeq={archivedThroughSeq}
              />
            </>
          )}
        </main>
      </div>
    </div>
  );
}
