/**
 * The inspector's state, kept live from the event stream: the session list, the selected
 * session's details, and the compaction records seen per session. No polling: every refresh is
 * started by an event (or by the page's own action).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Checkpoint } from '../core/types.js';
import type { SessionAPI } from '../ipc/channels.js';
import type { SessionEvent } from '../runtime/events.js';
import type { SessionInfo, SizeEstimate } from '../runtime/types.js';
import {
  mergeRecords,
  recordFromEvent,
  recordsFromCheckpoint,
  type CompactionRecord,
} from './compactions.js';
import { createHistoryCache, type HistoryCache } from './history-cache.js';

/**
 * Everything the page shows of the selected session.
 * @example if (details) console.log(details.info.state, details.estimate?.total);
 */
export interface SessionDetails {
  id: string;
  info: SessionInfo;
  estimate: SizeEstimate | null;
  checkpoint: Checkpoint | null;
  /** The history, read a page at a time as the page needs it; appended messages arrive through events. */
  history: HistoryCache;
}

/**
 * A compaction running now, as its events tell it: started, then progress (chunks, output tokens).
 * @example if (progress) console.log(`${progress.chunk ?? 0}/${progress.chunks ?? '?'} chunks`);
 */
export interface CompactionInProgress {
  /** When it started (ISO). */
  startedAt: string;
  /** The chunk being summarised and how many there are, when the compactor says. */
  chunk: number | null;
  chunks: number | null;
  /** Tokens the compactor has written so far, when it says. */
  outputTokens: number | null;
}

/**
 * What {@link useSessionInspector} returns.
 * @example const { sessions, select, details, error } = useSessionInspector(api);
 */
export interface SessionInspectorModel {
  /** Every session, or null until the first `list()` answers. */
  sessions: SessionInfo[] | null;
  selectedId: string | null;
  select(id: string | null): void;
  /** The selected session's details, or null while they load. */
  details: SessionDetails | null;
  /** The compaction records the page knows of for a session, oldest first. */
  recordsOf(id: string): CompactionRecord[];
  /** The compaction of a session running now (seen started, not yet ended), or null. */
  progressOf(id: string): CompactionInProgress | null;
  /** The last error (an API call that failed), shown until dismissed. */
  error: string | null;
  reportError(error: unknown): void;
  dismissError(): void;
  /** Reloads a session's figures now (after an action), as an event would. */
  refresh(id: string): Promise<void>;
  /** Whether the event stream is connected (always true for APIs without `eventsConnected`). */
  live: boolean;
}

/** The delay over which a burst of events for one session becomes one refresh. */
const COALESCE_MS = 30;

/**
 * The message of anything thrown: a `SessionIpcError`'s is `CODE: [dagent-sessions] ...`.
 * @internal
 */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/**
 * Keeps the inspector's data live over a {@link SessionAPI}: loads the list, the selected
 * session's info, size estimate, checkpoint and history, and refreshes what an event concerns
 * (a burst of events becomes one refresh per session). Machine states change at once from
 * `session.state.changed`; compaction figures are collected from `session.compaction.completed`.
 *
 * @param api - The typed API: the Electron preload's `window.dagentSessions` or `createSessionClient(url)`.
 * @param options - `initialSessionId`: the session selected at first.
 * @returns The model the inspector's components render.
 * @throws Nothing; failed calls set `error`.
 * @example
 * ```tsx
 * function Sessions({ api }: { api: SessionAPI }) {
 *   const model = useSessionInspector(api);
 *   return <SessionList sessions={model.sessions ?? []} selectedId={model.selectedId} onSelect={model.select} />;
 * }
 * ```
 */
export function useSessionInspector(
  api: SessionAPI,
  options: { initialSessionId?: string | null } = {},
): SessionInspectorModel {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(options.initialSessionId ?? null);
  const [details, setDetails] = useState<SessionDetails | null>(null);
  const [records, setRecords] = useState<ReadonlyMap<string, CompactionRecord[]>>(() => new Map());
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<ReadonlyMap<string, CompactionInProgress>>(() => new Map());
  const [live, setLive] = useState(
    () => typeof (api as { eventsConnected?: unknown }).eventsConnected !== 'function',
  );
  // Every checkpoint version is kept: the figures and cut of every commit, not only the latest.
  const recordsOfEveryVersion = useCallback(
    async (id: string, current: number): Promise<CompactionRecord[]> => {
      try {
        const versions = (await api.getCheckpointVersions(id)).filter((v) => v >= 1 && v !== current);
        const checkpoints = await Promise.all(versions.map((version) => api.getCheckpoint(id, { version })));
        return checkpoints.flatMap(recordsFromCheckpoint);
      } catch {
        return []; // a host without the call (an older server): the latest commit's figures only
      }
    },
    [api],
  );

  // The history of the selected session: one cache, fed by `session.message.appended`.
  const history = useRef(new Map<string, HistoryCache>());
  const selected = useRef<string | null>(null);
  selected.current = selectedId;

  const reportError = useCallback((e: unknown) => setError(errorText(e)), []);
  const addRecords = useCallback((id: string, added: CompactionRecord[]) => {
    if (added.length === 0) return;
    setRecords((all) => new Map(all).set(id, mergeRecords(all.get(id) ?? [], added)));
  }, []);

  const refreshList = useCallback(async () => {
    try {
      setSessions(await api.list());
    } catch (e) {
      reportError(e);
    }
  }, [api, reportError]);

  // Messages never change once written (a commit only archives them): a refresh reads no history.
  const refresh = useCallback(
    async (id: string) => {
      try {
        const info = await api.get(id);
        setSessions((list) => list && list.map((s) => (s.id === id ? info : s)));
        if (selected.current !== id) return;
        const [estimate, checkpoint] = await Promise.all([api.estimateSize(id), api.getCheckpoint(id)]);
        addRecords(id, recordsFromCheckpoint(checkpoint));
        setDetails((d) => (d?.id === id ? { ...d, info, estimate, checkpoint } : d));
      } catch (e) {
        reportError(e);
      }
    },
    [api, addRecords, reportError],
  );

  // Coalesces the refreshes events ask for: one per session per burst, never two at once.
  const pending = useRef(
    new Map<string, { timer: ReturnType<typeof setTimeout> | null; running: boolean; again: boolean }>(),
  );
  const schedule = useCallback(
    (id: string) => {
      const entry = pending.current.get(id) ?? { timer: null, running: false, again: false };
      pending.current.set(id, entry);
      if (entry.running) {
        entry.again = true;
        return;
      }
      if (entry.timer !== null) return;
      entry.timer = setTimeout(() => {
        entry.timer = null;
        entry.running = true;
        void refresh(id).finally(() => {
          entry.running = false;
          if (entry.again) {
            entry.again = false;
            schedule(id);
          } else pending.current.delete(id);
        });
      }, COALESCE_MS);
    },
    [refresh],
  );

  useEffect(() => {
    void refreshList();
    const onEvent = (event: SessionEvent) => {
      const id = event.sessionId;
      const record = recordFromEvent(event);
      if (record) addRecords(id, [record]);
      switch (event.type) {
        case 'session.created':
          void refreshList();
          return;
        case 'session.state.changed': {
          const to = event.to;
          setSessions((list) => list && list.map((s) => (s.id === id ? { ...s, state: to } : s)));
          setDetails((d) => (d?.id === id ? { ...d, info: { ...d.info, state: to } } : d));
          break;
        }
        case 'session.message.appended':
          history.current.get(id)?.add(event.message);
          break;
        case 'session.compaction.started':
          setProgress((all) =>
            new Map(all).set(id, { startedAt: event.at, chunk: null, chunks: null, outputTokens: null }),
          );
          break;
        case 'session.compaction.progress':
          setProgress((all) => {
            const running = all.get(id) ?? {
              startedAt: event.at,
              chunk: null,
              chunks: null,
              outputTokens: null,
            };
            return new Map(all).set(id, {
              ...running,
              chunk: event.chunk ?? running.chunk,
              chunks: event.chunks ?? running.chunks,
              outputTokens: event.outputTokens ?? running.outputTokens,
            });
          });
          return; // progress changes no figure: no refresh
        case 'session.compaction.completed':
        case 'session.compaction.failed':
        case 'session.compaction.cancelled':
          setProgress((all) => {
            if (!all.has(id)) return all;
            const next = new Map(all);
            next.delete(id);
            return next;
          });
          break;
        default:
          break;
      }
      schedule(id);
    };
    const stop = api.onEvent(onEvent);
    const connected = (api as { eventsConnected?: () => Promise<void> }).eventsConnected;
    let cancelled = false;
    if (typeof connected === 'function') {
      connected.call(api).then(
        () => !cancelled && setLive(true),
        (e: unknown) => !cancelled && reportError(e),
      );
    }
    return () => {
      cancelled = true;
      stop();
      for (const entry of pending.current.values()) if (entry.timer !== null) clearTimeout(entry.timer);
      pending.current.clear();
    };
  }, [api, addRecords, refreshList, reportError, schedule]);

  useEffect(() => {
    setDetails(null);
    if (selectedId === null) return;
    const id = selectedId;
    let cancelled = false;
    const cache = createHistoryCache(api, id);
    history.current = new Map([[id, cache]]);
    void (async () => {
      try {
        const [info, estimate, checkpoint] = await Promise.all([
          api.get(id),
          api.estimateSize(id),
          api.getCheckpoint(id),
          cache.start(),
        ]);
        const history = cache;
        void recordsOfEveryVersion(id, checkpoint?.version ?? 0).then(
          (all) => !cancelled && addRecords(id, all),
        );
        if (cancelled) return;
        addRecords(id, recordsFromCheckpoint(checkpoint));
        setSessions((list) => list && list.map((s) => (s.id === id ? info : s)));
        setDetails({ id, info, estimate, checkpoint, history });
      } catch (e) {
        if (cancelled) return;
        reportError(e); // a session that does not load (a stale #session= link): say why, select none
        setSelectedId((current) => (current === id ? null : current));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, selectedId, addRecords, reportError, recordsOfEveryVersion]);

  const recordsOf = useCallback((id: string) => records.get(id) ?? [], [records]);
  const progressOf = useCallback((id: string) => progress.get(id) ?? null, [progress]);
  return useMemo(
    () => ({
      sessions,
      selectedId,
      select: setSelectedId,
      details,
      recordsOf,
      progressOf,
      error,
      reportError,
      dismissError: () => setError(null),
      refresh: (id: string) => refresh(id),
      live,
    }),
    [sessions, selectedId, details, recordsOf, progressOf, error, reportError, refresh, live],
  );
}
