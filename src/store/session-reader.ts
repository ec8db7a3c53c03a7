/**
 * The read side of one session's directory (session-directory.ts): its files, through lowdb
 * adapters, what they hold in memory once loaded, and the reads of what a commit made immutable:
 * the committed archive segments (checked, whole, by page or the newest few) and the kept
 * checkpoint versions. {@link SessionDirectory} extends it with load, appends and commits.
 * @internal
 */
import path from 'node:path';
import { Low } from 'lowdb';
import type {
  AgentDescription,
  ArchiveSegment,
  ChatFile,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import { ArchiveDirectory } from './archive-directory.js';
import { readArchivePage } from './archive-pages.js';
import { CheckpointHistory } from './checkpoint-history.js';
import type { ArchivePage, ArchiveQuery, SessionCounts } from './contract.js';
import { inconsistentError } from './corrupt.js';
import { assertNothingSetAside } from './directory-guards.js';
import { DurableJsonFile } from './durable-json-file.js';
import { JournaledChatFile, emptyChat, type JournalStats } from './journaled-chat-file.js';
import {
  NO_COUNTS,
  isObject,
  validateCheckpoint,
  validateCounts,
  validateRecord,
  type FileOptions,
} from './session-files.js';

/** The files of one session, each through its adapter. @internal */
export interface SessionFileSet {
  record: Low<SessionRecord | null>;
  chatAdapter: JournaledChatFile;
  chat: Low<ChatFile>;
  checkpoint: Low<Checkpoint | null>;
  context: Low<SessionContext | null>;
  description: Low<AgentDescription | null>;
  counts: Low<SessionCounts | null>;
  archive: ArchiveDirectory;
  history: CheckpointHistory;
}

/** The adapters of the files in `dir` (nothing is read yet). @internal */
export function openSessionFiles(dir: string, options: FileOptions): SessionFileSet {
  const json = <T>(name: string, validate: (v: unknown) => string | null) =>
    new Low<T | null>(
      new DurableJsonFile<T | null>(path.join(dir, name), { ...options, validate, checksum: true }),
      null,
    );
  const chatAdapter = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), options);
  return {
    // Every file carries a checksum; a person who edits one by hand deletes its "$crc32" member.
    record: json<SessionRecord>('session.json', validateRecord),
    checkpoint: json<Checkpoint>('checkpoint.json', validateCheckpoint),
    context: json<SessionContext>('context.json', isObject),
    description: json<AgentDescription>('agent-description.json', isObject),
    counts: json<SessionCounts>('counts.json', validateCounts),
    chatAdapter,
    chat: new Low<ChatFile>(chatAdapter, emptyChat()),
    archive: new ArchiveDirectory(
      path.join(dir, 'archive'),
      path.join(dir, 'checkpoint.json'),
      options,
      options.cache ?? null,
    ),
    history: new CheckpointHistory(path.join(dir, 'checkpoints'), options, validateCheckpoint),
  };
}

/** What a session's files hold, and reads of its archive and checkpoint versions. */
export class SessionReader {
  readonly id: string;
  readonly dir: string;
  readonly #chatAdapter: JournaledChatFile;
  readonly #record: Low<SessionRecord | null>;
  readonly #checkpoint: Low<Checkpoint | null>;
  readonly #context: Low<SessionContext | null>;
  readonly #description: Low<AgentDescription | null>;
  readonly #counts: Low<SessionCounts | null>;
  readonly #archive: ArchiveDirectory;
  readonly #history: CheckpointHistory;

  protected constructor(id: string, dir: string, files: SessionFileSet) {
    this.id = id;
    this.dir = dir;
    this.#chatAdapter = files.chatAdapter;
    this.#record = files.record;
    this.#checkpoint = files.checkpoint;
    this.#context = files.context;
    this.#description = files.description;
    this.#counts = files.counts;
    this.#archive = files.archive;
    this.#history = files.history;
  }

  get archiveDir(): string {
    return path.join(this.dir, 'archive');
  }

  /** Where every checkpoint version is kept: `checkpoints/NNNNNN.json`. */
  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }

  /** The token counts persisted with the session's fixed parts. */
  get counts(): SessionCounts {
    return { ...NO_COUNTS, ...this.#counts.data };
  }

  /**
   * Live messages held in memory (only those on disk), without any the checkpoint has archived:
   * after a commit whose chat fold failed, chat still holds them until the next fold.
   */
  get messages(): readonly Message[] {
    const live = this.#chatAdapter.data.messages;
    const through = this.#checkpoint.data?.compactionInfo.archivedThroughSeq ?? -1;
    if (live.length === 0 || live[0]!.seq > through) return live;
    return live.filter((m) => m.seq > through);
  }

  get record(): SessionRecord | null {
    return this.#record.data;
  }

  get checkpoint(): Checkpoint | null {
    return this.#checkpoint.data;
  }

  get context(): SessionContext | null {
    return this.#context.data;
  }

  get agentDescription(): AgentDescription | null {
    return this.#description.data;
  }

  get journal(): JournalStats {
    return this.#chatAdapter.stats;
  }

  /**
   * Every archived message, oldest first.
   * @throws SessionError `CORRUPT_FILE` for a damaged or missing segment, or an archive that does
   *   not add up to what checkpoint.json says, on every call until repaired.
   */
  async readArchive(): Promise<Message[]> {
    const messages: Message[] = [];
    for await (const segment of this.readSegments()) messages.push(...segment.messages);
    return messages;
  }

  /**
   * The committed archive segments, oldest first, each checked: present, intact (checksum,
   * shape), numbered in order, continuing the seqs of the one before; and all together adding up
   * to the checkpoint's watermark and count.
   * @throws SessionError `CORRUPT_FILE` as {@link readArchive}.
   */
  async *readSegments(): AsyncGenerator<ArchiveSegment> {
    yield* this.#archive.committed(this.#checkpoint.data);
  }

  /**
   * Committed archive segment `n` (1-based), checked, or null past the last one.
   * @throws SessionError `CORRUPT_FILE` for a missing or damaged segment (every call).
   */
  async readSegment(n: number): Promise<ArchiveSegment | null> {
    const last = this.#checkpoint.data?.compactionInfo.segment ?? 0;
    if (!(Number.isInteger(n) && n >= 1 && n <= last)) return null;
    await assertNothingSetAside(this.archiveDir);
    return this.#archive.readCommitted(n, last);
  }

  /**
   * A page of the archive (see {@link ArchiveQuery}): only the segments it covers are read.
   * Without a limit or a range, every segment is read and the archive checked whole.
   * @throws SessionError `CORRUPT_FILE` as {@link readArchive}.
   */
  async readArchivePage(query: ArchiveQuery = {}): Promise<ArchivePage> {
    const checkpoint = this.#checkpoint.data;
    const through = checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
    const whole = query.after === undefined && query.before === undefined && query.limit === undefined;
    if (whole) {
      const messages = await this.readArchive();
      if (query.order === 'desc') messages.reverse();
      return { messages, more: false, archivedThroughSeq: through };
    }
    const count = checkpoint?.compactionInfo.segment ?? 0;
    await assertNothingSetAside(this.archiveDir);
    return readArchivePage(
      {
        count,
        archivedThroughSeq: through,
        read: (n) => this.#archive.readCommitted(n, count),
        broken: (n, problem) => inconsistentError(this.#archive.path(n), problem),
      },
      query,
    );
  }

  /**
   * Checkpoint `version`, or the current one; null when it is not kept (sessions written before
   * versions were kept have only the current one).
   * @throws SessionError `CORRUPT_FILE` for a damaged copy.
   */
  async readCheckpoint(version?: number): Promise<Checkpoint | null> {
    const current = this.#checkpoint.data;
    if (version === undefined || version === current?.version) return current;
    if (!(Number.isInteger(version) && version >= 0) || current === null || version > current.version)
      return null;
    return this.#history.read(version);
  }

  /** The checkpoint versions {@link readCheckpoint} can read, ascending. */
  async checkpointVersions(): Promise<number[]> {
    const current = this.#checkpoint.data;
    if (current === null) return [];
    const kept = (await this.#history.versions()).filter((v) => v < current.version);
    return [...kept, current.version];
  }

  /**
   * The newest `count` committed archive segments, newest first: what the runtime reads to find
   * the idempotency keys of recently archived messages without reading the whole archive.
   * @throws SessionError `CORRUPT_FILE` for a segment that is missing or damaged.
   */
  async *readRecentSegments(count: number): AsyncGenerator<ArchiveSegment> {
    if (!(count > 0)) return;
    const committed = this.#checkpoint.data?.compactionInfo.segment ?? 0;
    const recent = (await this.#archive.numbers()).filter((n) => n <= committed).slice(-count);
    for (const n of recent.reverse()) {
      const segment = await this.#archive.read(n);
      if (segment === null) {
        throw inconsistentError(this.#archive.path(n), `archive segment ${n} is missing`);
      }
      yield segment;
    }
  }
}
