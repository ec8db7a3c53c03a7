/**
 * @internal The history view's search: the form, and the hook that scans the history page by page
 * for what it asks, reporting the matches as they are found.
 */
import { useEffect, useState } from 'react';
import { valueOf } from './dom.js';
import type { HistoryCache } from './history-cache.js';
import { createMatcher, searchActive, type HistorySearch } from './history-search.js';

/**
 * @internal The search fields: text, role and tool name.
 * @example <SearchForm value={search} onChange={setSearch} />
 */
export function SearchForm({
  value,
  onChange,
}: {
  value: HistorySearch;
  onChange(value: HistorySearch): void;
}) {
  return (
    <form className="dgi-search" role="search" onSubmit={(e) => e.preventDefault()}>
      <label>
        Search text
        <input
          type="search"
          value={value.text}
          onChange={(e) => onChange({ ...value, text: valueOf(e.target) })}
        />
      </label>
      <label>
        Role
        <select
          value={value.role}
          onChange={(e) => onChange({ ...value, role: valueOf(e.target) as HistorySearch['role'] })}
        >
          <option value="">any</option>
          <option value="user">user</option>
          <option value="assistant">assistant</option>
          <option value="system">system</option>
        </select>
      </label>
      <label>
        Tool
        <input
          type="search"
          value={value.tool}
          placeholder="Bash, Edit…"
          onChange={(e) => onChange({ ...value, tool: valueOf(e.target) })}
        />
      </label>
    </form>
  );
}

/**
 * @internal Scans the history for `search`: the seqs that match, found so far, and how far it read.
 * @example const found = useSearch(cache, search); found.done && found.seqs.length
 */
export function useSearch(cache: HistoryCache, search: HistorySearch) {
  type Found = { key: string; seqs: number[]; scannedThrough: number; done: boolean };
  const [found, setFound] = useState<Found>({ key: '', seqs: [], scannedThrough: -1, done: true });
  const active = searchActive(search);
  const { text, role, tool } = search;
  // A new message appended while a search is shown is tested too: the scan runs again (its pages are read).
  const count = cache.count;
  // What the results on screen answer: until the scan of this key reports, they are not "done".
  const key = JSON.stringify([text, role, tool, count]);
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    const matches = createMatcher({ text, role, tool });
    const seqs: number[] = [];
    let tested = -1;
    const test = (through: number) => {
      for (let seq = tested + 1; seq <= through; seq++) {
        const message = cache.get(seq);
        if (message && matches(message)) seqs.push(seq);
      }
      tested = through;
      if (!stopped)
        setFound({ key, seqs: [...seqs], scannedThrough: through, done: through >= cache.count - 1 });
    };
    // A short pause lets typing finish before the scan starts.
    const timer = setTimeout(() => {
      void cache.scan(test, () => stopped).catch(() => undefined);
    }, 150);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [cache, active, text, role, tool, key]);
  if (!active) return { key, seqs: [] as number[], scannedThrough: -1, done: true, active };
  if (found.key !== key) return { key, seqs: [] as number[], scannedThrough: -1, done: false, active };
  return { ...found, active };
}
