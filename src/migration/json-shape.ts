/**
 * @internal Small, bounded checks of parsed legacy JSON. Legacy files may hold anything (junk
 * nested thousands of levels deep), so nothing here recurses, and nothing stringifies a value
 * whose size is unknown.
 */

/** @internal How deep a kept value (tool input, tool result, metadata) may nest. */
export const MAX_VALUE_DEPTH = 48;

// ISO-8601 date and time with seconds optional, fraction optional, and a zone (Z or ±hh:mm).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** @internal Whether `value` is an ISO-8601 date-time string that `Date.parse` understands. */
export function isIsoTimestamp(value: unknown): value is string {
  return typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));
}

/** @internal Whether `value` is a plain object (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @internal A short description of a value for a report: its type, and a primitive's value. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return value.length > 40 ? `a string ("${value.slice(0, 40)}...")` : JSON.stringify(value);
  if (value === undefined) return 'nothing';
  return String(value);
}

/**
 * @internal The first problem that keeps `value` from being stored as message metadata: nesting
 * deeper than `maxDepth`, or a `__proto__` key (which the runtime refuses). Iterative, and it
 * stops at the first problem, so a value nested 100,000 levels deep costs `maxDepth` steps.
 */
export function valueProblem(value: unknown, where: string, maxDepth = MAX_VALUE_DEPTH): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= maxDepth) return `${where} is nested more than ${maxDepth} levels deep`;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    if (!Array.isArray(item.value) && Object.prototype.hasOwnProperty.call(item.value, '__proto__')) {
      return `${where} has a "__proto__" key, which cannot be stored`;
    }
    for (const child of children) stack.push({ value: child, depth: item.depth + 1 });
  }
  return null;
}

/** @internal The keys of `entry` outside `known`, with their values: kept so that no word is lost. */
export function extraFields(
  entry: Record<string, unknown>,
  known: readonly string[],
): Record<string, unknown> | null {
  const extra = Object.entries(entry).filter(([key]) => !known.includes(key));
  return extra.length === 0 ? null : Object.fromEntries(extra);
}
