/**
 * The checkpoint diff panel: pick two kept versions, see what the newer one added, superseded and
 * dropped, section by section (`getCheckpointVersions` and `getCheckpoint(id, { version })`).
 */
import { useEffect, useState } from 'react';
import type { Checkpoint } from '../core/types.js';
import type { SessionAPI } from '../ipc/channels.js';
import { diffCheckpoints } from './checkpoint-diff.js';
import { valueOf } from './dom.js';
import { LongList } from './long-list.js';

/**
 * Props of {@link CheckpointDiffView}.
 * @example const props: CheckpointDiffViewProps = { api, sessionId: id, currentVersion: 3 };
 */
export interface CheckpointDiffViewProps {
  api: Pick<SessionAPI, 'getCheckpoint' | 'getCheckpointVersions'>;
  sessionId: string;
  /** The current checkpoint version: the list of versions is read again when it changes. */
  currentVersion: number;
  onError?(error: unknown): void;
}

function VersionSelect({
  label,
  versions,
  value,
  onChange,
}: {
  label: string;
  versions: number[];
  value: number | null;
  onChange(v: number): void;
}) {
  return (
    <label className="dgi-keep">
      {label}
      <select value={value ?? ''} onChange={(e) => onChange(Number(valueOf(e.target)))}>
        {versions.map((v) => (
          <option key={v} value={v}>
            v{v}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Two checkpoint versions side by side as a diff: for each section (summary, reviews and
 * decisions, open problems, user requests, files, commands, status) the items the newer version
 * added, the ones it superseded (same key, new value: old → new) and the ones it dropped. By
 * default the current version against the one before it.
 *
 * @example <CheckpointDiffView api={api} sessionId={id} currentVersion={checkpoint.version} />
 */
export function CheckpointDiffView({ api, sessionId, currentVersion, onError }: CheckpointDiffViewProps) {
  const [versions, setVersions] = useState<number[] | null>(null);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  // The pair read, with the versions it was read for: while another pair is read, the old one is
  // not shown under the new versions' names.
  const [pair, setPair] = useState<{
    lower: number;
    upper: number;
    older: Checkpoint | null;
    newer: Checkpoint | null;
  } | null>(null);

  useEffect(() => {
    let cancelled = false;
    api.getCheckpointVersions(sessionId).then(
      (list) => {
        if (cancelled) return;
        setVersions(list);
        setTo(list.at(-1) ?? null);
        setFrom(list.length > 1 ? list.at(-2)! : (list[0] ?? null));
      },
      (e: unknown) => onError?.(e),
    );
    return () => {
      cancelled = true;
    };
  }, [api, sessionId, currentVersion, onError]);

  useEffect(() => {
    if (from === null || to === null) return;
    let cancelled = false;
    const read = (v: number) =>
      v === 0 ? Promise.resolve(null) : api.getCheckpoint(sessionId, { version: v });
    const [lower, upper] = [Math.min(from, to), Math.max(from, to)];
    Promise.all([read(lower), read(upper)]).then(
      ([older, newer]) => !cancelled && setPair({ lower, upper, older, newer }),
      (e: unknown) => onError?.(e),
    );
    return () => {
      cancelled = true;
    };
  }, [api, sessionId, from, to, onError]);

  const current =
    pair !== null &&
    from !== null &&
    to !== null &&
    pair.lower === Math.min(from, to) &&
    pair.upper === Math.max(from, to)
      ? pair
      : null;
  const diff = current
    ? diffCheckpoints(current.older, current.newer).filter(
        (s) => s.added.length + s.superseded.length + s.dropped.length > 0,
      )
    : [];
  return (
    <section className="dgi-panel" aria-label="Version diff">
      <h2>Checkpoint changes</h2>
      {versions === null ? (
        <p className="dgi-muted">Loading versions…</p>
      ) : versions.length < 2 ? (
        <p className="dgi-muted">
          {versions.length === 0 ? 'No checkpoint yet.' : `Only v${versions[0]} is kept: nothing to compare.`}
        </p>
      ) : (
        <>
          <div className="dgi-actions__row">
            <VersionSelect label="From version" versions={versions} value={from} onChange={setFrom} />
            <VersionSelect label="To version" versions={versions} value={to} onChange={setTo} />
          </div>
          {current === null ? (
            <p className="dgi-muted">Loading…</p>
          ) : diff.length === 0 ? (
            <p className="dgi-muted">No change between these versions.</p>
          ) : (
            <div className="dgi-diff" data-from={current.lower} data-to={current.upper}>
              {diff.map((s) => (
                <div
                  key={s.id}
                  className="dgi-diff__section"
                  data-section={s.id}
                  data-added={s.added.length}
                  data-superseded={s.superseded.length}
                  data-dropped={s.dropped.length}
                >
                  <h3>
                    {s.title}{' '}
                    <span className="dgi-muted">
                      +{s.added.length} ~{s.superseded.length} −{s.dropped.length}
                    </span>
                  </h3>
                  <LongList
                    items={[
                      ...s.added.map((line) => ({ change: 'added', text: `+ ${line}` })),
                      ...s.superseded.map((c) => ({ change: 'superseded', text: `~ ${c.from} → ${c.to}` })),
                      ...s.dropped.map((line) => ({ change: 'dropped', text: `− ${line}` })),
                    ]}
                    render={(item, i) => (
                      <li key={i} className={`dgi-diff--${item.change}`} data-change={item.change}>
                        {item.text}
                      </li>
                    )}
                  />
                </div>
              ))}
            </div>
          )}
        </>
      )}
    </section>
  );
}
