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

/** @internal A frozen deep copy of a message list's items (a fresh array): what a store keeps of its input. */
export function frozenCopies<T>(items: readonly T[]): T[] {
  return items.map((item) => deepFreeze(structuredClone(item)));
}
