/**
 * The compaction in progress: its chunks and output tokens as the progress events tell them, and
 * a button that cancels it (`cancelCompaction(id)`).
 */
import { useState } from 'react';
import type { SessionAPI } from '../ipc/channels.js';
import type { SessionInfo } from '../runtime/types.js';
import { formatTokens } from './gauge.js';
import type { CompactionInProgress } from './use-session-inspector.js';

/**
 * Props of {@link CompactionProgress}.
 * @example const props: CompactionProgressProps = { api, session: info, progress: model.progressOf(info.id) };
 */
export interface CompactionProgressProps {
  api: Pick<SessionAPI, 'cancelCompaction'>;
  session: SessionInfo;
  /** What the events told of the running compaction (null when none was seen). */
  progress: CompactionInProgress | null;
  onError?(error: unknown): void;
}

/**
 * While the session compacts: "Compacting: chunk 2 of 5 · 1,204 output tokens" and a *Cancel
 * compaction* button. Cancelling stops the summarising step (the compactor's AbortSignal fires):
 * nothing changes on disk and the session is ready again with every message. A compaction whose
 * commit has started cannot be cancelled; the page then says so and the compaction completes.
 * Renders nothing when no compaction runs and nothing is to be said.
 *
 * @example <CompactionProgress api={api} session={info} progress={model.progressOf(info.id)} />
 */
export function CompactionProgress({ api, session, progress, onError }: CompactionProgressProps) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const running = session.state === 'compacting';
  if (!running && notice === null) return null;

  const cancel = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const cancelled = await api.cancelCompaction(session.id);
      setNotice(
        cancelled
          ? 'Compaction cancelled: nothing changed on disk.'
          : 'Nothing to cancel: no compaction was summarising (it had ended, or its commit had started and completes).',
      );
    } catch (e) {
      onError?.(e);
    } finally {
      setBusy(false);
    }
  };

  const parts: string[] = [];
  if (progress?.chunk != null)
    parts.push(`chunk ${progress.chunk}${progress.chunks != null ? ` of ${progress.chunks}` : ''}`);
  if (progress?.outputTokens != null) parts.push(`${formatTokens(progress.outputTokens)} output tokens`);
  return (
    <section className="dgi-panel dgi-progress" aria-label="Compaction in progress" data-running={running}>
      {running && (
        <div className="dgi-actions__row">
          <p className="dgi-progress__text" data-testid="compaction-progress">
            <strong>Compacting</strong>
            {parts.length > 0 ? `: ${parts.join(' · ')}` : '…'}
          </p>
          <button type="button" className="dgi-danger-outline" disabled={busy} onClick={() => void cancel()}>
            Cancel compaction
          </button>
        </div>
      )}
      {notice && (
        <p className="dgi-notice" role="status">
          {notice}{' '}
          <button type="button" className="dgi-link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </p>
      )}
    </section>
  );
}
