/**
 * @internal Stores share some objects with their callers instead of copying them (messages held
 * in memory, cached archive segments): frozen, so that no caller can change what another reads
 * or what is stored.
 */

/** @internal Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** @internal Whether `value` and everything reachable from it is frozen (nobody can change it). */
export function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  for (const child of Object.values(value)) if (!isDeepFrozen(child)) return false;
  return true;
}

/**
 * @internal What a store keeps of a list of its input (a fresh array): each item as it is when
 * nobody can change it any more (deep-frozen, as the runtime's messages are), else a frozen deep
 * copy. Either way no caller can change what is stored, and frozen input is not held twice.
 */
export function frozenCopies<T>(items: readonly T[]): T[] {
  return items.map((item) => (isDeepFrozen(item) ? item : deepFreeze(structuredClone(item))));
}
