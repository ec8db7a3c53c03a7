/**
 * @internal A loaded session as the runtime holds it: the head the store gave at load, kept up to
 * date by the runtime's own writes through the store contract (memory follows the store: a write
 * changes what is held only once the store acknowledged it). The effects, the compaction and the
 * runtime's reads use this instead of reaching into a store's files.
 */
import { deepFreeze } from '../store/freeze.js';
import { IN_PLACE_NOT_DURABLE, refusedInDoubt } from '../store/writes-in-doubt.js';
import { indexOfSeq } from '../store/chat-data.js';
import type {
  AgentDescription,
  ArchiveSegment,
  CheckResult,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import type {
  ArchivePage,
  ArchiveQuery,
  SessionCounts,
  SessionHead,
  SessionStore,
} from '../store/contract.js';

/** @internal One loaded session over a {@link SessionStore}. */
export class SessionHandle {
  readonly id: string;
  readonly #store: SessionStore;
  #record: SessionRecord;
  #checkpoint: Checkpoint | null;
  #context: SessionContext | null;
  #description: AgentDescription | null;
  #counts: SessionCounts;
  #messages: Message[];
  readonly #onInDoubt: (error: unknown) => void;
  /** A write in doubt that the store does not hold ({@link holdInDoubt}), or null. */
  #doubt: { details?: Record<string, unknown> } | null = null;

  /**
   * @param onInDoubt - Told of every write of this session whose file went in place but not
   *   durably (`details.outcome` `'in-place-not-durable'`): whichever call made it, the session's
   *   actor learns that memory may not be what the files hold (writes-in-doubt.ts). Appends never are.
   */
  constructor(store: SessionStore, head: SessionHead, onInDoubt: (error: unknown) => void = () => undefined) {
    this.id = head.record.id;
    this.#store = store;
    this.#onInDoubt = onInDoubt;
    this.#record = head.record;
    this.#checkpoint = deepFreeze(head.checkpoint); // the caller's copy (store contract): a request renders it once
    this.#context = head.context;
    this.#description = head.agentDescription;
    this.#counts = head.counts;
    this.#messages = head.messages;
  }

  /**
   * Holds `error`, a write in doubt the store's files were loaded after (a creation whose
   * session.json is in place but not durable: create-session.ts), as this session's doubt: every
   * write but an append is refused, as the store refuses them after a write in doubt of its own,
   * until a new handle loads the files (a reopen).
   */
  holdInDoubt(error: { details?: Record<string, unknown> }): void {
    this.#doubt ??= error;
  }

  /** Live messages (not archived), oldest first: only those the store acknowledged. */
  get messages(): readonly Message[] {
    return this.#messages;
  }

  get record(): SessionRecord {
    return this.#record;
  }

  get checkpoint(): Checkpoint | null {
    return this.#checkpoint;
  }

  get context(): SessionContext | null {
    return this.#context;
  }

  get agentDescription(): AgentDescription | null {
    return this.#description;
  }

  get counts(): SessionCounts {
    return this.#counts;
  }

  get archivedThroughSeq(): number {
    return this.#checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
  }

  /**
   * Appends durably; held once the store acknowledged them. They are deep-frozen first: the store
   * keeps them without a copy, and reads hand them out without one.
   */
  async appendMessages(messages: readonly Message[], uncounted?: readonly number[]): Promise<void> {
    for (const m of messages) deepFreeze(m);
    await this.#store.append(this.id, messages, uncounted === undefined ? undefined : { uncounted });
    for (const m of messages) this.#messages.push(m);
  }

  /** Whether the store can take counts later (appends before their count is known). */
  get countsLater(): boolean {
    return typeof this.#store.recordCounts === 'function';
  }

  /**
   * The exact counts of messages appended as uncounted: the live messages hold them from now on,
   * and the store persists them. Returns, of those given, the ones still live.
   */
  async recordCounts(counts: readonly { seq: number; tokens: number }[]): Promise<typeof counts> {
    const live: { seq: number; tokens: number }[] = [];
    for (const count of counts) {
      const i = indexOfSeq(this.#messages, count.seq);
      if (i < 0) continue;
      this.#messages[i] = deepFreeze({ ...this.#messages[i]!, tokens: count.tokens });
      live.push(count);
    }
    if (live.length > 0) await this.#store.recordCounts?.(this.id, live);
    return live;
  }

  /** Commits a compaction, clear or reset; the archived messages leave the live ones. */
  async commit(segment: ArchiveSegment | null, checkpoint: Checkpoint, keepChecks = true): Promise<void> {
    const result = await this.#telling('commit', () =>
      this.#store.commit(this.id, { segment, checkpoint, keepChecks }),
    );
    // The store's copy, the caller's to keep: frozen, a request renders it once (build-request.ts).
    this.#checkpoint = deepFreeze(result.checkpoint);
    // Messages appended while the commit ran are above the watermark: they stay.
    const through = result.checkpoint.compactionInfo.archivedThroughSeq;
    if ((this.#messages[0]?.seq ?? Infinity) <= through)
      this.#messages = this.#messages.filter((m) => m.seq > through);
  }

  async writeContext(context: SessionContext): Promise<void> {
    await this.#telling('context write', () => this.#store.writeContext(this.id, context));
    this.#context = context;
  }

  async writeAgentDescription(description: AgentDescription): Promise<void> {
    await this.#telling('agent description write', () =>
      this.#store.writeAgentDescription(this.id, description),
    );
    this.#description = description;
  }

  async writeRecord(record: SessionRecord): Promise<void> {
    await this.#telling('record write', () => this.#store.writeRecord(this.id, record));
    this.#record = record;
  }

  async writeCounts(counts: Partial<SessionCounts>): Promise<void> {
    await this.#telling('counts write', () => this.#store.writeCounts(this.id, counts));
    this.#counts = { ...this.#counts, ...counts };
  }

  async recordChecks(checks: readonly CheckResult[], now: string): Promise<Checkpoint> {
    const checkpoint = await this.#telling('checks write', () =>
      this.#store.recordChecks(this.id, checks, now),
    );
    // A commit may have made a newer checkpoint current meanwhile: keep the newest.
    if (this.#checkpoint === null || checkpoint.version >= this.#checkpoint.version)
      this.#checkpoint = deepFreeze(checkpoint);
    return checkpoint;
  }

  /** A page of the archive (the store's). */
  readArchive(query: ArchiveQuery = {}): Promise<ArchivePage> {
    return this.#store.readArchive(this.id, query);
  }

  /** The newest `count` committed segments, newest first. */
  async *readRecentSegments(count: number): AsyncGenerator<ArchiveSegment> {
    const last = this.#checkpoint?.compactionInfo.segment ?? 0;
    for (let n = last; n >= 1 && n > last - count; n--) {
      const segment = await this.#store.readSegment(this.id, n);
      if (segment !== null) yield segment;
    }
  }

  /**
   * Runs a write, refused (nothing written) while this handle holds a doubt; its failure told to
   * `onInDoubt` first when its file is in place but not durable.
   */
  async #telling<T>(what: string, write: () => Promise<T>): Promise<T> {
    if (this.#doubt !== null) throw refusedInDoubt(this.id, what, this.#doubt);
    try {
      return await write();
    } catch (error) {
      const details = (error as { details?: { outcome?: unknown } } | null)?.details;
      if (details?.outcome === IN_PLACE_NOT_DURABLE) this.#onInDoubt(error);
      throw error;
    }
  }

  /** The store may free what it holds for this session. */
  release(): Promise<void> {
    return this.#store.release(this.id);
  }
}
