/**
 * The checkpoint viewer: completed, in progress, pending, decisions, blockers, the goals and the
 * ledger (status, task-loop iterations, user requests, open problems, reviews and decisions,
 * files, commands) when there are any, and checks, each a section that expands and collapses.
 */
import { useState, type ReactNode } from 'react';
import type { Checkpoint, CheckpointSummary } from '../core/types.js';
import { commandLine, decisionLine } from '../request/format-ledger.js';
import { formatTime } from './gauge.js';
import { LongList } from './long-list.js';

/**
 * Props of {@link CheckpointViewer}.
 * @example const props: CheckpointViewerProps = { checkpoint: await api.getCheckpoint(id) };
 */
export interface CheckpointViewerProps {
  /** The checkpoint, or null before the first compaction. */
  checkpoint: Checkpoint | null;
}

const SECTIONS: Array<[keyof CheckpointSummary, string]> = [
  ['completed', 'Completed'],
  ['inProgress', 'In progress'],
  ['pending', 'Pending'],
  ['decisions', 'Decisions'],
  ['blockers', 'Blockers'],
];

function Section({
  id,
  title,
  count,
  children,
}: {
  id: string;
  title: string;
  count: number;
  children: ReactNode;
}) {
  const [open, setOpen] = useState(true);
  const bodyId = `dgi-checkpoint-${id}`;
  return (
    <div className="dgi-section" data-section={id}>
      <h3>
        <button
          type="button"
          className="dgi-section__toggle"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen(!open)}
        >
          <span aria-hidden="true">{open ? '▾' : '▸'}</span> {title}{' '}
          <span className="dgi-count">{count}</span>
        </button>
      </h3>
      <div id={bodyId} hidden={!open}>
        {children}
      </div>
    </div>
  );
}

/** The checkpoint's goals and the non-empty parts of its ledger, as titled lists of lines. */
function ledgerSections(checkpoint: Checkpoint): Array<[string, string, string[]]> {
  const ledger = checkpoint.ledger;
  const sections: Array<[string, string, string[]]> = [
    ['goals', 'Goals', checkpoint.summary.goals ?? []],
    ['status', 'Status', ledger?.status ? [ledger.status.text] : []],
    ['iterations', 'Iterations', (ledger?.iterationLog ?? []).map((i) => `${i.iteration}: ${i.text}`)],
    ['requests', 'User requests', (ledger?.requests ?? []).map((r) => r.text)],
    ['problems', 'Open problems', (ledger?.problems ?? []).map((p) => p.text)],
    ['reviews', 'Reviews and decisions', (ledger?.decisions ?? []).map(decisionLine)],
    ['files', 'Files', (ledger?.files ?? []).map((f) => `${f.action}: ${f.path}`)],
    ['commands', 'Commands', (ledger?.commands ?? []).map(commandLine)],
  ];
  return sections.filter(([, , items]) => items.length > 0);
}

/**
 * The current checkpoint, section by section (each with a button that has `aria-expanded`), with
 * its version and update time; re-rendered with the new checkpoint after each compaction.
 *
 * @example <CheckpointViewer checkpoint={checkpoint} />
 */
export function CheckpointViewer({ checkpoint }: CheckpointViewerProps) {
  if (!checkpoint) {
    return (
      <section className="dgi-panel" aria-label="Checkpoint">
        <h2>Checkpoint</h2>
        <p className="dgi-muted">No checkpoint yet: nothing has been compacted.</p>
      </section>
    );
  }
  const checks = checkpoint.checks ?? [];
  return (
    <section className="dgi-panel dgi-checkpoint" aria-label="Checkpoint" data-version={checkpoint.version}>
      <h2>
        Checkpoint v{checkpoint.version}{' '}
        <span className="dgi-muted">· updated {formatTime(checkpoint.updatedAt)}</span>
      </h2>
      {SECTIONS.map(([key, title]) => {
        const items = checkpoint.summary[key] ?? [];
        return (
          <Section key={key} id={key} title={title} count={items.length}>
            {items.length === 0 ? (
              <p className="dgi-muted">None.</p>
            ) : (
              <LongList items={items} render={(item, index) => <li key={index}>{item}</li>} />
            )}
          </Section>
        );
      })}
      {ledgerSections(checkpoint).map(([id, title, items]) => (
        <Section key={id} id={id} title={title} count={items.length}>
          <LongList items={items} render={(item, index) => <li key={index}>{item}</li>} />
        </Section>
      ))}
      <Section id="checks" title="Checks" count={checks.length}>
        {checks.length === 0 ? (
          <p className="dgi-muted">None recorded.</p>
        ) : (
          <ul className="dgi-items">
            {checks.map((check) => (
              <li key={check.checkId} className={check.passed ? 'dgi-check--passed' : 'dgi-check--failed'}>
                <strong>{check.passed ? '✓' : '✗'}</strong> {check.checkId}
                {check.error && <span className="dgi-muted"> · {check.error}</span>}
                {check.at && <span className="dgi-muted"> · {formatTime(check.at)}</span>}
              </li>
            ))}
          </ul>
        )}
      </Section>
    </section>
  );
}
