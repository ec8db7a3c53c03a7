/**
 * The messages of one session that the page has read, by seq, loaded a page at a time through
 * `getHistory(id, { after, before, order: 'asc' })` as the history list scrolls, the search scans
 * or the chart reads. Messages never change once written (a compaction or a clear only moves them
 * to the archive), so what was read once stays valid: a page is read at most once.
 */
import type { Message } from '../core/types.js';
import type { SessionAPI } from '../ipc/channels.js';

/** Messages per read (about 180 KB at the 1.8 KB a message of the 1,538-message session of issue 12). */
export const HISTORY_PAGE = 100;

/**
 * What {@link createHistoryCache} returns.
 * @example const cache = createHistoryCache(api, id); await cache.start(); await cache.ensure(0, 49);
 */
export interface HistoryCache {
  /** Messages in the session (seqs 0 … count-1), known once `start()` resolved. */
  readonly count: number;
  /** The message of `seq`, if read. */
  get(seq: number): Message | undefined;
  /** Reads the newest message to learn the count (one read of one message). */
  start(): Promise<void>;
  /** Reads the pages holding seqs `from`…`to` that are not read yet. */
  ensure(from: number, to: number): Promise<void>;
  /** Reads every page not read yet, oldest first, calling `onPage` after each; stops once `stopped()`. */
  scan(onPage: (readThrough: number) => void, stopped?: () => boolean): Promise<void>;
  /** A message that arrived through an event. */
  add(message: Message): void;
  /** Calls `listener` after anything was read or added; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** Reads made so far (for the page's figures and tests). */
  readonly reads: number;
}

/**
 * A cache of one session's history over the {@link SessionAPI}, read in pages of
 * {@link HISTORY_PAGE} messages.
 *
 * @param api - The typed API (`getHistory` with a query).
 * @param sessionId - The session.
 * @returns The cache; call `start()` first.
 * @throws Nothing itself; `start`, `ensure` and `scan` reject with the API's errors.
 * @example
 * ```ts
 * const cache = createHistoryCache(api, id);
 * await cache.start();
 * await cache.ensure(cache.count - 50, cache.count - 1); // the newest 50
 * ```
 */
export function createHistoryCache(api: Pick<SessionAPI, 'getHistory'>, sessionId: string): HistoryCache {
  const messages = new Map<number, Message>();
  const pages = new Map<number, Promise<void>>(); // page number -> its read
  const listeners = new Set<() => void>();
  let count = 0;
  let reads = 0;
  const changed = () => listeners.forEach((l) => l());

  function readPage(page: number): Promise<void> {
    const known = pages.get(page);
    if (known) return known;
    const first = page * HISTORY_PAGE;
    const read = (async () => {
      reads++;
      const got = await api.getHistory(sessionId, {
        after: first - 1,
        before: first + HISTORY_PAGE,
        order: 'asc',
      });
      for (const m of got) messages.set(m.seq, m);
      changed();
    })();
    // Only reads in flight are shared: a page read before its last messages were written (or a
    // read that failed) is read again when a later ensure finds it incomplete.
    pages.set(page, read);
    void read.then(
      () => pages.delete(page),
      () => pages.delete(page),
    );
    return read;
  }

  return {
    get count() {
      return count;
    },
    get reads() {
      return reads;
    },
    get: (seq) => messages.get(seq),
    async start() {
      reads++;
      const [newest] = await api.getHistory(sessionId, { limit: 1 });
      if (newest) {
        messages.set(newest.seq, newest);
        count = Math.max(count, newest.seq + 1);
      }
      changed();
    },
    async ensure(from, to) {
      const lo = Math.max(0, from);
      const hi = Math.min(count - 1, to);
      if (hi < lo) return;
      const wanted: Promise<void>[] = [];
      for (let page = Math.floor(lo / HISTORY_PAGE); page <= Math.floor(hi / HISTORY_PAGE); page++) {
        const first = page * HISTORY_PAGE;
        const last = Math.min(count - 1, first + HISTORY_PAGE - 1);
        let complete = true;
        for (let seq = Math.max(first, lo); seq <= Math.min(last, hi) && complete; seq++)
          complete = messages.has(seq);
        if (!complete) wanted.push(readPage(page));
      }
      await Promise.all(wanted);
    },
    async scan(onPage, stopped = () => false) {
      for (let page = 0; page * HISTORY_PAGE < count; page++) {
        if (stopped()) return;
        const first = page * HISTORY_PAGE;
        await this.ensure(first, first + HISTORY_PAGE - 1);
        onPage(Math.min(count, first + HISTORY_PAGE) - 1);
      }
    },
    add(message) {
      messages.set(message.seq, message);
      count = Math.max(count, message.seq + 1);
      changed();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
