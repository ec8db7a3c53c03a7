/**
 * @internal Idempotent writes: a caller's `idempotencyKey` is stored with its message, and a
 * retry with the same key finds that message instead of writing a second one.
 *
 * The window: a key is found while its message is live, or in one of the session's newest
 * {@link IDEMPOTENCY_WINDOW_SEGMENTS} archive segments (that many compactions or clears after
 * it), across restarts of the process. Each loaded session keeps its keys in memory (key → seq),
 * read once from its live messages and those segments on the first keyed write, then kept up to
 * date; keys that fall out of the window are dropped.
 */
import { isDeepStrictEqual } from 'node:util';
import { SessionError } from '../core/errors.js';
import type { Message, MessageInput } from '../core/types.js';
import type { SessionHandle } from './session-handle.js';

/** Archive segments, newest first, whose keys stay findable: the window of a retry after compactions. */
export const IDEMPOTENCY_WINDOW_SEGMENTS = 8;

/** The key under which `send` stores the reply to a keyed user message. */
export function replyKeyOf(key: string): string {
  return `${key}/reply`;
}

function archivedThroughOf(dir: SessionHandle): number {
  return dir.checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
}

/** @internal The idempotency keys of one loaded session. */
export class KeyIndex {
  readonly #dir: SessionHandle;
  readonly #keys = new Map<string, number>();
  /** First seq of each archive segment whose keys are kept, oldest first. */
  #segmentStarts: number[] = [];
  #archivedThrough: number;
  /** Resolves once the keys on disk are read. */
  readonly ready: Promise<void>;

  constructor(dir: SessionHandle) {
    this.#dir = dir;
    this.#archivedThrough = archivedThroughOf(dir);
    this.ready = this.#read();
  }

  async #read(): Promise<void> {
    // Live first, then the archive: a compaction committing in between can then only show a
    // message twice (same key, same seq), never hide it.
    for (const m of this.#dir.messages)
      if (m.idempotencyKey !== undefined) this.#remember(m.idempotencyKey, m.seq);
    const starts: number[] = [];
    for await (const segment of this.#dir.readRecentSegments(IDEMPOTENCY_WINDOW_SEGMENTS)) {
      starts.unshift(segment.firstSeq);
      this.#archivedThrough = Math.max(this.#archivedThrough, segment.lastSeq);
      for (const m of segment.messages)
        if (m.idempotencyKey !== undefined) this.#remember(m.idempotencyKey, m.seq);
    }
    this.#segmentStarts = starts;
  }

  #remember(key: string, seq: number): void {
    const known = this.#keys.get(key);
    if (known === undefined || seq < known) this.#keys.set(key, seq); // the first write is the stored one
  }

  /** Records the key of a message just appended. */
  add(key: string, seq: number): void {
    this.#remember(key, seq);
  }

  /** Notes compactions committed since the last look, and forgets keys that left the window. */
  #advance(): void {
    const through = archivedThroughOf(this.#dir);
    if (through <= this.#archivedThrough) return;
    this.#segmentStarts.push(this.#archivedThrough + 1);
    this.#archivedThrough = through;
    if (this.#segmentStarts.length <= IDEMPOTENCY_WINDOW_SEGMENTS) return;
    this.#segmentStarts = this.#segmentStarts.slice(-IDEMPOTENCY_WINDOW_SEGMENTS);
    const oldest = this.#segmentStarts[0]!;
    for (const [key, seq] of this.#keys) if (seq < oldest) this.#keys.delete(key);
  }

  /**
   * The message stored under `key`, or null when the key is unknown in the window.
   * @throws SessionError `CORRUPT_FILE` when the archive segment that holds it cannot be read.
   */
  async find(key: string): Promise<Message | null> {
    await this.ready;
    this.#advance();
    const seq = this.#keys.get(key);
    if (seq === undefined) return null;
    return (await this.#messageAt(seq)) ?? null;
  }

  async #messageAt(seq: number): Promise<Message | undefined> {
    const live = this.#dir.messages;
    if (seq >= (live[0]?.seq ?? Infinity)) return binarySearch(live, seq);
    for await (const segment of this.#dir.readRecentSegments(Number.MAX_SAFE_INTEGER)) {
      if (segment.lastSeq < seq) break; // newest first: it is in none of the older ones either
      if (segment.firstSeq <= seq) return binarySearch(segment.messages, seq);
    }
    // Compacted while we looked: it moved from live to the archive.
    return binarySearch(this.#dir.messages, seq);
  }
}

function binarySearch(messages: readonly Message[], seq: number): Message | undefined {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = messages[mid]!;
    if (m.seq === seq) return m;
    if (m.seq < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * Whether a retry asks for the message stored under its key: same role, content and metadata (and
 * timestamp, if it gives one).
 */
export function sameMessage(stored: Message, input: MessageInput): boolean {
  return (
    stored.role === input.role &&
    isDeepStrictEqual(stored.content, input.content) &&
    isDeepStrictEqual(stored.metadata, input.metadata) &&
    (input.timestamp === undefined || input.timestamp === stored.timestamp)
  );
}

/** The error of a key used again for a different message. */
export function conflictError(sessionId: string, key: string, stored: Message): SessionError {
  return new SessionError(
    'IDEMPOTENCY_CONFLICT',
    'runtime',
    `session ${sessionId}: idempotencyKey "${key}" was used already for a different message ` +
      `(seq ${stored.seq}, role ${stored.role}); a retry must repeat the same role, ` +
      `content and metadata. Use a new key for a new message, or read the stored one with getHistory`,
    { details: { sessionId, idempotencyKey: key, messageId: stored.id, seq: stored.seq } },
  );
}

/**
 * @internal Runs `work` for a key only after the previous run for the same key has ended
 * (successfully or not): concurrent calls with one key never both write; the later one then
 * finds what the earlier one stored.
 */
export function createKeyLocks() {
  const running = new Map<string, Promise<unknown>>();
  return {
    /** Whether a run for `name` is in progress. */
    busy: (name: string): boolean => running.has(name),
    async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
      for (let held = running.get(name); held !== undefined; held = running.get(name))
        await held.catch(() => undefined);
      const run = work();
      running.set(name, run);
      try {
        return await run;
      } finally {
        if (running.get(name) === run) running.delete(name);
      }
    },
  };
}

/**
 * @internal A turn in a session's order of appends. `turn` is null when it is this call's turn
 * already (no earlier call of the session is still waiting or holding its own): the call may hand
 * over at once, without waiting a microtask. Otherwise wait for `turn`; then `release` once handed
 * to the actor (or when giving up the place: releasing before the turn came passes it on as soon
 * as it comes). Releasing twice is harmless.
 */
export interface AppendSlot {
  turn: Promise<void> | null;
  release: () => void;
}

/** One taken slot: its turn came (`ready`), it was released, the slot taken after it. */
class Slot implements AppendSlot {
  turn: Promise<void> | null = null;
  ready: boolean;
  released = false;
  next: Slot | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly lasts: Map<string, Slot>,
    private readonly sessionId: string,
    previous: Slot | undefined,
  ) {
    this.ready = previous === undefined;
    if (previous === undefined) return;
    previous.next = this;
    this.turn = new Promise<void>((resolve) => (this.wake = resolve));
  }

  readonly release = (): void => {
    if (this.released) return;
    this.released = true;
    Slot.passOn(this);
  };

  /** Passes the turn on from `slot` along the slots released already (those that gave up their place). */
  private static passOn(from: Slot): void {
    let slot = from;
    while (slot.ready && slot.released) {
      const next = slot.next;
      if (next === null) {
        if (slot.lasts.get(slot.sessionId) === slot) slot.lasts.delete(slot.sessionId);
        return;
      }
      slot.next = null; // done with: no link from a dead slot to a live one
      next.ready = true;
      next.wake?.();
      slot = next;
    }
  }
}

/**
 * @internal Keeps each session's appends in call order although counting a large message takes
 * time (off the main thread): a call hands its message to the session's actor only after every
 * earlier call has handed over its own (or given up). Appends queued meanwhile still share one
 * write (group commit): the order is of handing over, not of writing.
 *
 * A call that finds no earlier one still waiting or holding its slot gets its turn at once
 * (`turn` null), with no promise: in a burst of appends with upper bounds, each call hands over
 * in the turn it was made in, and an append costs no promise chain for its place.
 */
export function createAppendOrder() {
  const lasts = new Map<string, Slot>();
  return function take(sessionId: string): AppendSlot {
    const slot = new Slot(lasts, sessionId, lasts.get(sessionId));
    lasts.set(sessionId, slot);
    return slot;
  };
}
