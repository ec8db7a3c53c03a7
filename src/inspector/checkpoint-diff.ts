/**
 * What changed between two checkpoint versions, section by section: items added, items
 * superseded (the same key, a new value: a later review of a task, a file edited after it was
 * read, a command run again) and items dropped (no longer in the newer version). Pure.
 */
import type { Checkpoint, CheckpointSummary } from '../core/types.js';
import { commandLine, decisionLine } from '../request/format-ledger.js';

/**
 * One section's changes.
 * @example
 * const s: CheckpointDiffSection = { id: 'completed', title: 'Completed', added: ['x'], superseded: [], dropped: [] };
 */
export interface CheckpointDiffSection {
  id: string;
  title: string;
  added: string[];
  superseded: Array<{ from: string; to: string }>;
  dropped: string[];
}

/** A section as keyed lines: the key says which item it is, the line what it says. */
type Keyed = Array<[key: string, line: string]>;

const SUMMARY: Array<[keyof CheckpointSummary, string]> = [
  ['goals', 'Goals'],
  ['completed', 'Completed'],
  ['inProgress', 'In progress'],
  ['pending', 'Pending'],
  ['decisions', 'Decisions'],
  ['blockers', 'Blockers'],
];

function sections(c: Checkpoint | null): Array<{ id: string; title: string; items: Keyed }> {
  const summary = SUMMARY.map(([id, title]) => ({
    id,
    title,
    // A summary line is its own key: a reworded line is one dropped and one added.
    items: (c?.summary[id] ?? []).map((line): [string, string] => [line, line]),
  }));
  const ledger = c?.ledger;
  return [
    ...summary,
    {
      id: 'reviews',
      title: 'Reviews and decisions',
      items: (ledger?.decisions ?? []).map((d): [string, string] => [d.key, decisionLine(d)]),
    },
    {
      id: 'problems',
      title: 'Open problems',
      items: (ledger?.problems ?? []).map((p): [string, string] => [p.key, `${p.key}: ${p.text}`]),
    },
    {
      id: 'requests',
      title: 'User requests',
      items: (ledger?.requests ?? []).map((r): [string, string] => [r.text, r.text]),
    },
    {
      id: 'files',
      title: 'Files',
      items: (ledger?.files ?? []).map((f): [string, string] => [f.path, `${f.action} ${f.path}`]),
    },
    {
      id: 'commands',
      title: 'Commands',
      items: (ledger?.commands ?? []).map((x): [string, string] => [x.command, commandLine(x)]),
    },
    {
      id: 'status',
      title: 'Status',
      items: ledger?.status ? [['status', ledger.status.text]] : [],
    },
  ];
}

/**
 * The changes from checkpoint `older` to `newer`, one entry per section (empty sections too, so
 * a page can say "no change").
 *
 * @param older - The earlier version (null: nothing before).
 * @param newer - The later version.
 * @returns The sections with what was added, superseded and dropped.
 * @example
 * ```ts
 * const diff = diffCheckpoints(
 *   await api.getCheckpoint(id, { version: 2 }),
 *   await api.getCheckpoint(id, { version: 3 }),
 * );
 * diff.find((s) => s.id === 'completed')?.added; // what v3 completed
 * ```
 */
export function diffCheckpoints(older: Checkpoint | null, newer: Checkpoint | null): CheckpointDiffSection[] {
  const before = sections(older);
  return sections(newer).map((section, i) => {
    const was = new Map(before[i]!.items);
    const now = new Map(section.items);
    const added: string[] = [];
    const superseded: Array<{ from: string; to: string }> = [];
    for (const [key, line] of now) {
      const old = was.get(key);
      if (old === undefined) added.push(line);
      else if (old !== line) superseded.push({ from: old, to: line });
    }
    const dropped = [...was].filter(([key]) => !now.has(key)).map(([, line]) => line);
    return { id: section.id, title: section.title, added, superseded, dropped };
  });
}
