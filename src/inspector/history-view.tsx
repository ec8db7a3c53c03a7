/**
 * The history view: every message of the session, archived ones included, in a virtualised list
 * (only the rows on screen are in the page; their pages are read as the list scrolls), with the
 * points where each compaction cut, a search by text, role and tool name, and a jump to any cut.
 * A row is drawn by `history-message-row.tsx`; the search fields and their scan are in
 * `history-search-form.tsx`.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { cutPoints, type CompactionRecord, type CutPoint } from './compactions.js';
import { valueOf } from './dom.js';
import { formatTime } from './gauge.js';
import type { HistoryCache } from './history-cache.js';
import { CUT_ROW_PX, MESSAGE_ROW_PX, MessageRow } from './history-message-row.js';
import { NO_SEARCH, type HistorySearch } from './history-search.js';
import { SearchForm, useSearch } from './history-search-form.js';
import { messageText } from './message-text.js';
import { rowOffsets, visibleRows } from './virtual-rows.js';

export { messageText } from './message-text.js';
export { CUT_ROW_PX, MESSAGE_ROW_PX } from './history-message-row.js';

/**
 * Props of {@link HistoryView}.
 * @example
 * const props: HistoryViewProps = { history: createHistoryCache(api, id), records: [], archivedThroughSeq: -1 };
 */
export interface HistoryViewProps {
  /** The session's history, read a page at a time (`createHistoryCache(api, id)`, started). */
  history: HistoryCache;
  /** The compaction records known for the session: where the separators go. */
  records: readonly CompactionRecord[];
  /** The session's watermark: messages at or below it are archived. */
  archivedThroughSeq: number;
  /** Show internal messages (`metadata.internal`) at first; default false (the toggle changes it). */
  showInternal?: boolean;
}

/** Height of the scrolling box (CSS: `.dgi-scroll`). */
const VIEWPORT_FALLBACK_PX = 560;

type Row = { kind: 'message'; seq: number } | { kind: 'cut'; cut: CutPoint };

interface ScrollBox {
  scrollTop: number;
  clientHeight: number;
}

function useCacheVersion(cache: HistoryCache): number {
  const version = useRef(0);
  const subscribe = useCallback(
    (notify: () => void) =>
      cache.subscribe(() => {
        version.current++;
        notify();
      }),
    [cache],
  );
  return useSyncExternalStore(subscribe, () => version.current);
}

/**
 * Every message of the session in order, in a virtualised list: only the rows on screen are in
 * the page, and their pages of 100 messages are read (`getHistory(id, { after, before })`) when
 * they scroll into view. Archived messages are marked; a separator ("Compaction (checkpoint v3)
 * cut here") follows the last message each known compaction, clear or reset archived, and *Jump
 * to* scrolls to any of them. The search (text, role, tool name) reads the history page by page
 * and lists the matches as they are found; *Show in history* goes back to a match in place.
 * Messages the host marked internal (`metadata.internal: true`) are shown as a one-line
 * placeholder until *Show internal messages* is checked. *Open* shows a message in full below.
 *
 * @example <HistoryView history={cache} records={model.recordsOf(id)} archivedThroughSeq={info.archivedThroughSeq} />
 */
export function HistoryView({
  history,
  records,
  archivedThroughSeq,
  showInternal: initiallyShown = false,
}: HistoryViewProps) {
  const [showInternal, setShowInternal] = useState(initiallyShown);
  const [search, setSearch] = useState<HistorySearch>({ ...NO_SEARCH });
  const [opened, setOpened] = useState<number | null>(null);
  const [scroll, setScroll] = useState({ top: 0, viewport: VIEWPORT_FALLBACK_PX });
  const [highlight, setHighlight] = useState<number | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useCacheVersion(history); // re-render when a page arrives
  const count = history.count;
  const found = useSearch(history, search);

  const cuts = useMemo(
    () => cutPoints(records).filter((c) => c.afterSeq >= 0 && c.afterSeq < count),
    [records, count],
  );
  const rows = useMemo<Row[]>(() => {
    if (found.active) return found.seqs.map((seq) => ({ kind: 'message' as const, seq }));
    const out: Row[] = [];
    let next = 0;
    for (let seq = 0; seq < count; seq++) {
      out.push({ kind: 'message', seq });
      while (next < cuts.length && cuts[next]!.afterSeq === seq)
        out.push({ kind: 'cut', cut: cuts[next++]! });
    }
    return out;
  }, [found.active, found.seqs, count, cuts]);
  const { tops, height } = useMemo(
    () => rowOffsets(rows.map((r) => (r.kind === 'cut' ? CUT_ROW_PX : MESSAGE_ROW_PX))),
    [rows],
  );
  const { first, last } = visibleRows(tops, height, scroll.top, scroll.viewport);

  const onScroll = useCallback(() => {
    const el = box.current as unknown as ScrollBox | null;
    if (el) setScroll({ top: el.scrollTop, viewport: el.clientHeight || VIEWPORT_FALLBACK_PX });
  }, []);
  useEffect(onScroll, [onScroll]);

  // Read the pages of the rows on screen.
  const shownSeqs = rows.slice(first, last + 1).flatMap((r) => (r.kind === 'message' ? [r.seq] : []));
  const lo = shownSeqs.length > 0 ? Math.min(...shownSeqs) : 0;
  const hi = shownSeqs.length > 0 ? Math.max(...shownSeqs) : -1;
  useEffect(() => {
    if (hi >= lo) void history.ensure(lo, hi).catch(() => undefined);
  }, [history, lo, hi]);

  const scrollTo = useCallback((y: number) => {
    const el = box.current as unknown as ScrollBox | null;
    if (!el) return;
    el.scrollTop = y;
    setScroll({ top: el.scrollTop, viewport: el.clientHeight || VIEWPORT_FALLBACK_PX });
  }, []);
  // After leaving the search for a match, scroll to it once the full list is laid out.
  const pendingJump = useRef<number | null>(null);
  useEffect(() => {
    if (pendingJump.current === null || found.active) return;
    const seq = pendingJump.current;
    pendingJump.current = null;
    const index = rows.findIndex((r) => r.kind === 'message' && r.seq === seq);
    if (index >= 0) scrollTo(Math.max(0, tops[index]! - MESSAGE_ROW_PX));
  }, [rows, tops, found.active, scrollTo]);

  const jumpToCut = (afterSeq: number) => {
    const index = rows.findIndex((r) => r.kind === 'cut' && r.cut.afterSeq === afterSeq);
    if (index >= 0) scrollTo(Math.max(0, tops[index]! - 2 * MESSAGE_ROW_PX));
  };
  const showInHistory = (seq: number) => {
    pendingJump.current = seq;
    setHighlight(seq);
    setSearch({ ...NO_SEARCH });
  };

  const archivedCount = Math.min(count, archivedThroughSeq + 1);
  const openedMessage = opened === null ? undefined : history.get(opened);
  return (
    <section className="dgi-panel" aria-label="History">
      <h2>
        History{' '}
        <span className="dgi-muted" data-testid="history-count">
          · {count} messages, {archivedCount} archived
        </span>
      </h2>
      <SearchForm value={search} onChange={setSearch} />
      <div className="dgi-history__tools">
        <label className="dgi-toggle">
          <input type="checkbox" checked={showInternal} onChange={() => setShowInternal(!showInternal)} />{' '}
          Show internal messages
        </label>
        {!found.active && (
          <>
            <button type="button" onClick={() => scrollTo(0)}>
              Oldest
            </button>
            <button type="button" onClick={() => scrollTo(height)}>
              Newest
            </button>
            {cuts.length > 0 && (
              <label className="dgi-jump">
                Jump to
                <select
                  value=""
                  onChange={(e) => {
                    const v = valueOf(e.target);
                    if (v !== '') jumpToCut(Number(v));
                  }}
                >
                  <option value="">a cut point…</option>
                  {cuts.map((c) => (
                    <option key={c.afterSeq} value={c.afterSeq}>
                      {c.label.replace(/ cut here$/, '')}: after #{c.afterSeq}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </>
        )}
      </div>
      {found.active && (
        <p className="dgi-muted" role="status" data-testid="search-status" data-done={found.done}>
          {found.seqs.length} {found.seqs.length === 1 ? 'match' : 'matches'}
          {found.done ? '' : ` · searching… read ${found.scannedThrough + 1} of ${count}`}
        </p>
      )}
      {rows.length === 0 ? (
        <p className="dgi-muted">
          {found.active ? (found.done ? 'No message matches.' : '') : 'No messages yet.'}
        </p>
      ) : null}
      <div className="dgi-scroll" ref={box} onScroll={onScroll} data-testid="history-scroll">
        <ol
          className="dgi-history"
          style={{ height }}
          data-rows={rows.length}
          data-first={first}
          data-last={last}
          aria-label={found.active ? 'Matches' : 'Messages'}
        >
          {rows.slice(first, last + 1).map((row, i) => {
            const top = tops[first + i]!;
            if (row.kind === 'cut') {
              return (
                <li
                  key={`c${row.cut.afterSeq}`}
                  className="dgi-row dgi-cut"
                  style={{ top, height: CUT_ROW_PX }}
                  role="separator"
                  data-cut-after={row.cut.afterSeq}
                >
                  <span>{row.cut.label}</span>
                </li>
              );
            }
            return (
              <MessageRow
                key={`m${row.seq}`}
                message={history.get(row.seq)}
                seq={row.seq}
                archived={row.seq <= archivedThroughSeq}
                showInternal={showInternal || found.active}
                top={top}
                highlighted={!found.active && highlight === row.seq}
                onOpen={setOpened}
                {...(found.active ? { onShow: showInHistory } : {})}
              />
            );
          })}
        </ol>
      </div>
      {openedMessage && (
        <section className="dgi-opened" aria-label={`Message #${openedMessage.seq}`}>
          <div className="dgi-message__meta">
            <strong>
              #{openedMessage.seq} {openedMessage.role}
            </strong>
            <span>{formatTime(openedMessage.timestamp)}</span>
            <button type="button" className="dgi-link" onClick={() => setOpened(null)}>
              Close
            </button>
          </div>
          <pre className="dgi-message__text">{messageText(openedMessage)}</pre>
        </section>
      )}
    </section>
  );
}
