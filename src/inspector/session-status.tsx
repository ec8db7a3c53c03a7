/**
 * A session's status: the token gauge, the machine state, the checkpoint version and the figures
 * around them.
 */
import type { Checkpoint } from '../core/types.js';
import type { SessionInfo, SizeEstimate } from '../runtime/types.js';
import { sessionLabel } from './filters.js';
import { formatTime, formatTokens } from './gauge.js';
import { TokenGauge } from './token-gauge.js';

/**
 * Props of {@link SessionStatus}.
 * @example const props: SessionStatusProps = { session: info, estimate: await api.estimateSize(info.id) };
 */
export interface SessionStatusProps {
  session: SessionInfo;
  /** The size estimate; the gauge is left out while it is null. */
  estimate: SizeEstimate | null;
  /** The checkpoint, for its version and time (the session's own figure is used without it). */
  checkpoint?: Checkpoint | null;
}

/**
 * A badge of a machine state (`idle`, `appending`, `compacting`, `failed`, `loading`, `closed`),
 * with `data-state` set to it; `closed` reads "not loaded" (no actor in memory).
 * @example <StateBadge state={session.state} />
 */
export function StateBadge({ state }: { state: SessionInfo['state'] }) {
  return (
    <span className={`dgi-state dgi-state--${state}`} data-state={state}>
      {state === 'closed' ? 'not loaded' : state}
    </span>
  );
}

/**
 * The status panel of one session: its gauge (tokens against the limit, warning from 80%), live
 * machine state, checkpoint version, live and archived figures (marked when `figures` is
 * `'unconfirmed'`), the request's breakdown, and the session's error when it failed.
 *
 * @example <SessionStatus session={info} estimate={estimate} checkpoint={checkpoint} />
 */
export function SessionStatus({ session, estimate, checkpoint }: SessionStatusProps) {
  const version = checkpoint?.version ?? session.checkpointVersion;
  const rows: Array<[string, string]> = [
    ['Live messages', `${session.liveMessages} (${formatTokens(session.liveTokens)} tokens)`],
    [
      'All messages',
      `${formatTokens(session.stats.totalMessages)} (${formatTokens(session.stats.totalTokens)} tokens)`,
    ],
    ['Compactor', session.compactor],
    ['Status', session.status],
    ['Updated', formatTime(session.updatedAt)],
  ];
  return (
    <section className="dgi-panel dgi-status" aria-label="Session status">
      <header className="dgi-status__head">
        <h2>{sessionLabel(session)}</h2>
        <code className="dgi-muted">{session.id}</code>
      </header>
      <div className="dgi-status__facts">
        <div>
          <span className="dgi-fact__name">Machine state</span> <StateBadge state={session.state} />
        </div>
        <div>
          <span className="dgi-fact__name">Checkpoint</span>{' '}
          <strong data-testid="checkpoint-version">v{version}</strong>
          {checkpoint && <span className="dgi-muted"> · {formatTime(checkpoint.updatedAt)}</span>}
        </div>
      </div>
      {estimate && (
        <TokenGauge value={estimate.total} limit={estimate.limit} threshold={estimate.threshold} />
      )}
      {estimate && (
        <p className="dgi-muted dgi-breakdown">
          Description {formatTokens(estimate.breakdown.agentDescription)} · context{' '}
          {formatTokens(estimate.breakdown.context)} · checkpoint{' '}
          {formatTokens(estimate.breakdown.checkpoint)} · messages {formatTokens(estimate.breakdown.messages)}{' '}
          · reply reserve {formatTokens(estimate.breakdown.replyReserve)}
        </p>
      )}
      <dl className="dgi-facts">
        {rows.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {session.figures === 'unconfirmed' && (
        <p className="dgi-muted dgi-unconfirmed" data-testid="figures-unconfirmed">
          Figures unconfirmed: they are the runtime&apos;s memory, and the files may hold others (a write in
          doubt, or files that did not load) until the session is loaded again.
        </p>
      )}
      {session.error && (
        <p className="dgi-session-error">
          <strong>{session.error.code}</strong> {session.error.message}
        </p>
      )}
    </section>
  );
}
