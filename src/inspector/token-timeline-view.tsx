/**
 * The token timeline chart (plain SVG): the request size as each message arrived, against the
 * compaction threshold and the limit, each commit marked with its tokens before and after.
 */
import { useEffect, useRef, useState } from 'react';
import type { Message } from '../core/types.js';
import type { CompactionRecord } from './compactions.js';
import { formatTokens } from './gauge.js';
import type { HistoryCache } from './history-cache.js';
import { downsample, tokenTimeline } from './token-timeline.js';

/**
 * Props of {@link TokenTimeline}.
 * @example
 * const props: TokenTimelineProps = {
 *   history: cache,
 *   records,
 *   limit: 200_000,
 *   threshold: 180_000,
 *   fixedTokens: 3_000,
 * };
 */
export interface TokenTimelineProps {
  /** The session's history (read in full, page by page, when the chart is opened). */
  history: HistoryCache;
  /** Commits with their figures (`recordsFromCheckpoint` of every kept version). */
  records: readonly CompactionRecord[];
  limit: number;
  threshold: number;
  /** Description, context and reply reserve: the request without messages and checkpoint. */
  fixedTokens: number;
  /** Open at first (default false: the history is read only when the chart is opened). */
  open?: boolean;
}

const W = 800;
const H = 220;
const PAD = { left: 52, right: 10, top: 10, bottom: 24 };

/**
 * A chart of the request size per message (x: message seq, y: tokens) with the threshold (dashed)
 * and the limit (red), and a mark per compaction, clear or reset: a vertical line from its tokens
 * before to its tokens after, with both figures in its tooltip and in the list below the chart.
 * It reads the whole history (page by page) only once opened, and shows how far it has read.
 *
 * @example
 * <TokenTimeline history={cache} records={records} limit={e.limit} threshold={e.threshold} fixedTokens={3000} />
 */
export function TokenTimeline({
  history,
  records,
  limit,
  threshold,
  fixedTokens,
  open = false,
}: TokenTimelineProps) {
  const [opened, setOpened] = useState(open);
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [read, setRead] = useState(-1);
  const count = history.count;
  const lastCount = useRef(-1);

  useEffect(() => {
    if (!opened || lastCount.current === count) return;
    lastCount.current = count;
    let stopped = false;
    void history
      .scan(
        (through) => !stopped && setRead(through),
        () => stopped,
      )
      .then(() => {
        if (stopped) return;
        const all: Message[] = [];
        for (let seq = 0; seq < history.count; seq++) {
          const m = history.get(seq);
          if (m) all.push(m);
        }
        setMessages(all);
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
      lastCount.current = -1;
    };
  }, [opened, history, count]);

  const { points, marks } = messages
    ? tokenTimeline(messages, records, fixedTokens)
    : { points: [], marks: [] };
  const maxSeq = Math.max(1, (points.at(-1)?.seq ?? 0) + 1);
  const top = Math.max(limit, ...points.map((p) => p.tokens), ...marks.map((m) => m.before)) * 1.05;
  const x = (seq: number) => PAD.left + ((seq + 0.5) / maxSeq) * (W - PAD.left - PAD.right);
  const y = (tokens: number) => PAD.top + (1 - tokens / top) * (H - PAD.top - PAD.bottom);
  const line = downsample(points, 800)
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.seq).toFixed(1)},${y(p.tokens).toFixed(1)}`)
    .join(' ');
  const peak = points.reduce((m, p) => Math.max(m, p.tokens), 0);

  return (
    <details
      className="dgi-panel dgi-timeline"
      open={opened}
      onToggle={(e) => setOpened((e.currentTarget as unknown as { open: boolean }).open)}
    >
      <summary>
        <h2>Token timeline</h2>
      </summary>
      {messages === null ? (
        <p className="dgi-muted" role="status">
          Reading the history… {read + 1} of {count} messages
        </p>
      ) : (
        <>
          <svg
            className="dgi-chart"
            viewBox={`0 0 ${W} ${H}`}
            role="img"
            aria-label={
              `Request size per message: peak ${formatTokens(peak)} tokens, ` +
              `threshold ${formatTokens(threshold)}, limit ${formatTokens(limit)}, ${marks.length} commits`
            }
            data-points={points.length}
            data-marks={marks.length}
          >
            <line className="dgi-chart__axis" x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={H - PAD.bottom} />
            <line
              className="dgi-chart__axis"
              x1={PAD.left}
              x2={W - PAD.right}
              y1={H - PAD.bottom}
              y2={H - PAD.bottom}
            />
            <text className="dgi-chart__label" x={PAD.left - 4} y={y(limit) + 4} textAnchor="end">
              {formatTokens(limit)}
            </text>
            <text className="dgi-chart__label" x={PAD.left - 4} y={H - PAD.bottom} textAnchor="end">
              0
            </text>
            <text className="dgi-chart__label" x={W - PAD.right} y={H - 6} textAnchor="end">
              #{maxSeq - 1}
            </text>
            <line
              className="dgi-chart__limit"
              data-line="limit"
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(limit)}
              y2={y(limit)}
            />
            <line
              className="dgi-chart__threshold"
              data-line="threshold"
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(threshold)}
              y2={y(threshold)}
            />
            <path className="dgi-chart__line" d={line} />
            {marks.map((m) => (
              <g
                key={m.record.checkpointVersion}
                className="dgi-chart__mark"
                data-version={m.record.checkpointVersion}
                data-before={m.before}
                data-after={m.after}
              >
                <title>
                  {`${m.record.kind} v${m.record.checkpointVersion} after ` +
                    `#${m.afterSeq}: ${formatTokens(m.before)} → ${formatTokens(m.after)} tokens`}
                </title>
                <line x1={x(m.afterSeq)} x2={x(m.afterSeq)} y1={y(m.before)} y2={y(m.after)} />
                <circle cx={x(m.afterSeq)} cy={y(m.before)} r={3} />
                <circle cx={x(m.afterSeq)} cy={y(m.after)} r={3} />
              </g>
            ))}
          </svg>
          <p className="dgi-chart__legend dgi-muted">
            <span className="dgi-key dgi-key--line">request size</span>
            <span className="dgi-key dgi-key--threshold">threshold {formatTokens(threshold)}</span>
            <span className="dgi-key dgi-key--limit">limit {formatTokens(limit)}</span>
          </p>
          {marks.length > 0 && (
            <ol className="dgi-timeline__marks">
              {marks.map((m) => (
                <li key={m.record.checkpointVersion} data-version={m.record.checkpointVersion}>
                  v{m.record.checkpointVersion} {m.record.kind} after #{m.afterSeq}: {formatTokens(m.before)}{' '}
                  → {formatTokens(m.after)} tokens
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </details>
  );
}
