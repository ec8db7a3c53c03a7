/**
 * @internal Stores share some objects with their callers instead of copying them (messages held
 * in memory, cached archive segments): frozen, so that no caller can change what another reads
 * or what is stored.
 */
import type { ArchiveSegment } from '../core/types.js';

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
  return items.map((item) => (isDeepFrozen(item) ? item : frozenCopy(item)));
}

/** Thrown inside {@link plainCopy} for a value it leaves to `structuredClone`. */
const NOT_PLAIN = Symbol('not plain data');
const MAX_DEPTH = 256;

/**
 * @internal A frozen deep copy of `value`. Plain data (what messages are: objects, arrays,
 * strings, numbers, booleans, null) is copied by a walk that freezes as it goes, 3-5x faster than
 * `structuredClone`; anything else (a Date, a Map, a function, a cycle) is left to
 * `structuredClone`, so it is copied, or refused, exactly as before.
 */
export function frozenCopy<T>(value: T): T {
  try {
    return plainCopy(value, 0, true) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return deepFreeze(structuredClone(value));
  }
}

/**
 * @internal A deep copy of `value` the caller can change, equal to `structuredClone(value)`. Plain
 * data is copied by the same walk as {@link frozenCopy}, which shares strings (immutable) instead of
 * copying their characters: a built request's system prompt is tens of KB, copied twice by
 * `structuredClone`. Anything else is left to `structuredClone`, as before.
 */
export function mutableCopy<T>(value: T): T {
  try {
    return plainCopy(value, 0, false) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return structuredClone(value);
  }
}

function plainCopy(value: unknown, depth: number, freeze: boolean): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'object':
      break;
    default:
      throw NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    // A subclass, or properties besides the items: structuredClone keeps them.
    if (Object.getPrototypeOf(value) !== Array.prototype || Object.keys(value).length !== value.length)
      throw NOT_PLAIN;
    const copy: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw NOT_PLAIN; // a hole: structuredClone keeps it
      copy[i] = plainCopy(value[i], depth + 1, freeze);
    }
    return freeze ? Object.freeze(copy) : copy;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === '__proto__') throw NOT_PLAIN; // an own "__proto__" (JSON.parse makes them) is not a setter's
    copy[key] = plainCopy((value as Record<string, unknown>)[key], depth + 1, freeze);
  }
  return freeze ? Object.freeze(copy) : copy;
}

/**
 * @internal What the store keeps of a caller's segment: a copy, whose messages are shared when deep-frozen (the
 * runtime's are: its live messages, archived now) and frozen copies otherwise. A structured clone of
 * every archived message cost about 1 ms a commit of 100 messages, for nothing anyone could change.
 */
export function segmentCopy(segment: ArchiveSegment): ArchiveSegment {
  const copy: ArchiveSegment = structuredClone({ ...segment, messages: [] });
  copy.messages = frozenCopies(segment.messages); // in its place: the segment's file keeps its key order
  return copy;
}
