/**
 * The token gauge's arithmetic and the inspector's number formats. Pure.
 */

/**
 * Where a token count stands against its limit: `ok` below {@link WARNING_RATIO} of the limit,
 * `warning` from it, `over` at or past the limit.
 * @example const level: GaugeLevel = gaugeLevel(85_000, 100_000); // 'warning'
 */
export type GaugeLevel = 'ok' | 'warning' | 'over';

/**
 * The fraction of the limit from which the gauge warns: 80%.
 * @example gaugeLevel(WARNING_RATIO * 1000, 1000) // 'warning'
 */
export const WARNING_RATIO = 0.8;

/**
 * The gauge's level for `value` tokens against `limit`.
 * @param value - Tokens of the next request (`estimateSize().total`).
 * @param limit - The session's `maxTokens`; a limit of 0 or less counts as reached.
 * @example gaugeLevel(79_999, 100_000) // 'ok'; gaugeLevel(80_000, 100_000) // 'warning'
 */
export function gaugeLevel(value: number, limit: number, warningRatio = WARNING_RATIO): GaugeLevel {
  if (!(limit > 0) || value >= limit) return 'over';
  return value >= limit * warningRatio ? 'warning' : 'ok';
}

/**
 * `value` as a percentage of `limit`, clamped to 0–100 for drawing (the text says the real figure).
 * @example gaugePercent(150, 100) // 100
 */
export function gaugePercent(value: number, limit: number): number {
  if (!(limit > 0)) return 100;
  return Math.min(100, Math.max(0, (value / limit) * 100));
}

/**
 * A whole number with thousands separators: `12,345`.
 * @example formatTokens(12345) // '12,345'
 */
export function formatTokens(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/**
 * A duration for people: `850 ms`, `2.4 s`, `3 min 5 s`.
 * @example formatDuration(2400) // '2.4 s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/**
 * An ISO time as `2025-01-31 14:05:09` (UTC, so every viewer reads the same); `—` for none.
 * @example formatTime('2025-01-31T14:05:09.123Z') // '2025-01-31 14:05:09'
 */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}
