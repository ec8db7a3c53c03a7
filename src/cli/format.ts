/**
 * @internal Small text helpers of the CLI: numbers, times, one-line previews and tables.
 */

/** @internal A whole number with thousands separators: `12,345`. */
export function n(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** @internal `1 call`, `2 calls`: a count with its noun, `s` added unless it is 1. */
export function count(value: number, noun: string): string {
  return `${n(value)} ${noun}${value === 1 ? '' : 's'}`;
}

/** @internal An ISO time as `2025-01-31 14:05Z` ('-' when empty). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** @internal Text on one line, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
}

/** @internal A column of {@link table}: its header, and whether it is right-aligned (numbers). */
export interface Column {
  header: string;
  right?: boolean;
}

/**
 * @internal A plain-text table: a header row, then one row per entry, columns two spaces apart.
 * @example table([{ header: 'ID' }, { header: 'TOKENS', right: true }], [['a', '1,200']])
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return c.right ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n');
}
