/**
 * The token gauge: a session's next request against its limit, warning from 80%.
 */
import { formatTokens, gaugeLevel, gaugePercent, WARNING_RATIO } from './gauge.js';

/**
 * Props of {@link TokenGauge}.
 * @example const props: TokenGaugeProps = { value: 85_000, limit: 100_000, threshold: 90_000 };
 */
export interface TokenGaugeProps {
  /** Tokens of the next request (`estimateSize().total`). */
  value: number;
  /** The session's `maxTokens`. */
  limit: number;
  /** Where compaction starts, in tokens (`estimateSize().threshold`): drawn as a mark. */
  threshold?: number;
  /** The meter's accessible name; default "Tokens of the next request". */
  label?: string;
}

/**
 * A meter of `value` tokens out of `limit`: `role="meter"` with `aria-valuenow`/`aria-valuemax`,
 * a mark at the compaction threshold, and the class `dgi-gauge--warning` (from 80% of the limit)
 * or `dgi-gauge--over` (at the limit), with a visible warning.
 *
 * @example <TokenGauge value={estimate.total} limit={estimate.limit} threshold={estimate.threshold} />
 */
export function TokenGauge({
  value,
  limit,
  threshold,
  label = 'Tokens of the next request',
}: TokenGaugeProps) {
  const level = gaugeLevel(value, limit);
  const percent = limit > 0 ? Math.round((value / limit) * 100) : 100;
  const text = `${formatTokens(value)} of ${formatTokens(limit)} tokens (${percent}%)`;
  return (
    <div className={`dgi-gauge dgi-gauge--${level}`} data-level={level}>
      <div className="dgi-gauge__head">
        <span>{label}</span>
        <strong>{text}</strong>
      </div>
      <div
        className="dgi-gauge__track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={value}
        aria-valuetext={text}
      >
        <div className="dgi-gauge__fill" style={{ width: `${gaugePercent(value, limit)}%` }} />
        {threshold !== undefined && (
          <div
            className="dgi-gauge__threshold"
            style={{ left: `${gaugePercent(threshold, limit)}%` }}
            title={`compaction at ${formatTokens(threshold)} tokens`}
          />
        )}
      </div>
      {threshold !== undefined && (
        <p className="dgi-gauge__note">Compaction starts at {formatTokens(threshold)} tokens.</p>
      )}
      {level !== 'ok' && (
        <p className="dgi-gauge__warning">
          {level === 'over'
            ? 'At or over the limit: the next request will be compacted or trimmed.'
            : `Over ${Math.round(WARNING_RATIO * 100)}% of the limit.`}
        </p>
      )}
    </div>
  );
}
