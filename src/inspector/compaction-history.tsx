/**
 * The compaction history: when, tokens before and after, messages compacted, duration, compactor.
 */
import type { CompactionRecord } from './compactions.js';
import { formatDuration, formatTime, formatTokens } from './gauge.js';

/**
 * Props of {@link CompactionHistory}.
 * @example const props: CompactionHistoryProps = { records: model.recordsOf(id), commits: info.checkpointVersion };
 */
export interface CompactionHistoryProps {
  /** What the page knows, oldest first (see `recordsFromCheckpoint`, `recordFromEvent`, `mergeRecords`). */
  records: readonly CompactionRecord[];
  /** Commits the session made in all (its checkpoint version): says how many are not known in detail. */
  commits?: number;
}

const dash = (value: number | null, format: (n: number) => string) => (value === null ? '—' : format(value));

/**
 * The compactions, clears and resets the page knows of, newest first: checkpoint version, kind,
 * time, tokens before → after, messages compacted, duration, compactor. The API exposes
 * the figures of the latest commit (in the checkpoint) and the page collects those of every
 * compaction it sees happen; a note says how many older ones are in the archive without figures.
 *
 * @example <CompactionHistory records={model.recordsOf(id)} commits={checkpoint?.version ?? 0} />
 */
export function CompactionHistory({ records, commits }: CompactionHistoryProps) {
  const known = records.filter((r) => r.source !== 'derived').length;
  const unknown = commits === undefined ? 0 : Math.max(0, commits - known);
  return (
    <section className="dgi-panel" aria-label="Compaction history">
      <h2>Compaction history</h2>
      {records.length === 0 ? (
        <p className="dgi-muted">No compaction yet.</p>
      ) : (
        <ol className="dgi-records">
          {[...records].reverse().map((r) => (
            <li
              key={r.checkpointVersion}
              className="dgi-record"
              data-version={r.checkpointVersion}
              data-source={r.source}
            >
              <div className="dgi-record__head">
                <strong>v{r.checkpointVersion}</strong>
                <span className="dgi-tag">{r.kind === 'earlier' ? 'earlier: cut only' : r.kind}</span>
                <span className="dgi-muted">{formatTime(r.at)}</span>
              </div>
              <dl className="dgi-record__figures">
                <div>
                  <dt>Tokens</dt>
                  <dd>
                    {r.tokensBefore === null || r.tokensAfter === null
                      ? '—'
                      : `${formatTokens(r.tokensBefore)} → ${formatTokens(r.tokensAfter)}`}
                  </dd>
                </div>
                <div>
                  <dt>Messages</dt>
                  <dd>{dash(r.messagesCompacted, formatTokens)}</dd>
                </div>
                <div>
                  <dt>Duration</dt>
                  <dd>{dash(r.durationMs, formatDuration)}</dd>
                </div>
                <div>
                  <dt>Compactor</dt>
                  <dd>{r.compactor ?? '—'}</dd>
                </div>
              </dl>
            </li>
          ))}
        </ol>
      )}
      {unknown > 0 && (
        <p className="dgi-muted">
          {unknown} earlier commit{unknown === 1 ? '' : 's'} (compactions, clears, resets) made before this
          page opened: their messages are in the history below, but the API keeps the figures of the latest
          one only.
        </p>
      )}
    </section>
  );
}
