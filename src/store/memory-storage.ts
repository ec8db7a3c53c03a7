/**
 * Where memory stores keep sessions ({@link MemoryStorage}): what outlives one
 * `createMemorySessionStore`, so that several stores can be opened on it, one writer at a time.
 */
import type {
  AgentDescription,
  ArchiveSegment,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import type { SessionCounts } from './contract.js';

/** @internal One session as the memory store keeps it (frozen data). */
export interface MemorySession {
  record: SessionRecord;
  checkpoint: Checkpoint | null;
  context: SessionContext | null;
  agentDescription: AgentDescription | null;
  counts: SessionCounts;
  live: Message[];
  /** Live messages appended as uncounted whose exact count was not recorded (their tokens a bound). */
  uncounted: Set<number>;
  segments: ArchiveSegment[];
  /** Every checkpoint version as committed. */
  versions: Map<number, Checkpoint>;
}

/**
 * Where memory stores keep sessions. Open several stores on one storage to have a second
 * instance (a reader, or a writer after the first closed); keep it to keep the sessions.
 */
export interface MemoryStorage {
  /** @internal */
  readonly sessions: Map<string, MemorySession>;
  /** @internal The writer holding the storage, or null. */
  writer: { token: string; description: string } | null;
}

/** Creates empty storage for {@link createMemorySessionStore}. */
export function createMemoryStorage(): MemoryStorage {
  return { sessions: new Map(), writer: null };
}
