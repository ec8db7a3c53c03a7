/**
 * One session's directory, `<root>/.dagent/sessions/<id>/`, through lowdb: session.json,
 * chat.json (+ chat.log), checkpoint.json, context.json, agent-description.json and archive/.
 *
 * The compaction commit writes archive segment, then checkpoint, then chat. checkpoint.json is
 * the commit point: `load()` removes a segment newer than the checkpoint (its messages are still
 * in chat), and drops from chat the messages the checkpoint says are archived. So a crash at any
 * point leaves every message exactly once in archive + live.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { SessionError } from '../core/errors.js';
import type {
  AgentDescription,
  ArchiveSegment,
  CheckResult,
  ChatFile,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import { listSetAside, corruptFileError } from './corrupt.js';
import { ensureDir, fsyncDir, isErrno } from './durable-fs.js';
import { DurableJsonFile } from './durable-json-file.js';
import { JournaledChatFile, emptyChat, type JournalStats } from './journaled-chat-file.js';

/** Options shared by the store's files. */
export interface FileOptions {
  durable: boolean;
  readOnly: boolean;
  /** See {@link JournaledChatFile}. */
  foldMinBytes?: number;
  /** The store's root, that no session file may lead outside of (see assertInsideRoot). */
  root?: string;
}

/** Everything a session actor needs after a load. */
export interface LoadedSession {
  record: SessionRecord;
  /** Live messages (not archived), oldest first. */
  messages: readonly Message[];
  checkpoint: Checkpoint | null;
  context: SessionContext | null;
  agentDescription: AgentDescription | null;
  /** Seq of the last archived message, -1 when none. */
  archivedThroughSeq: number;
  /** What load repaired after a crash (orphan segment removed, archived messages dropped from chat). */
  repairs: string[];
  tornRecordsDropped: number;
}

const SEGMENT_NAME = /^(\d{6})\.json$/;
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** The file name of an archive segment: `000001.json`. */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(6, '0')}.json`;
}

function isObject(value: unknown): string | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? null
    : 'must hold a JSON object';
}

function validateRecord(value: unknown): string | null {
  const problem = isObject(value);
  if (problem) return problem;
  const v = value as Partial<SessionRecord>;
  if (typeof v.id !== 'string' || typeof v.key !== 'object' || v.key === null) return 'needs "id" and "key"';
  return null;
}

function validateCheckpoint(value: unknown): string | null {
  const problem = isObject(value);
  if (problem) return problem;
  const v = value as Partial<Checkpoint>;
  if (typeof v.version !== 'number' || typeof v.summary !== 'object' || v.summary === null)
    return 'needs "version" and "summary"';
  if (typeof v.compactionInfo !== 'object' || v.compactionInfo === null) return 'needs "compactionInfo"';
  return null;
}

function validateSegment(value: unknown): string | null {
  const problem = isObject(value);
  if (problem) return problem;
  const v = value as Partial<ArchiveSegment>;
  return Array.isArray(v.messages) && typeof v.segment === 'number' ? null : 'needs "segment" and "messages"';
}

/**
 * The files of one session. Create with {@link JsonFileSessionStore.session}; call `load()`
 * (or `create()`) before anything else.
 */
export class SessionDirectory {
  readonly id: string;
  readonly dir: string;
  readonly #options: FileOptions;
  readonly #record: Low<SessionRecord | null>;
  readonly #chatAdapter: JournaledChatFile;
  readonly #chat: Low<ChatFile>;
  readonly #checkpoint: Low<Checkpoint | null>;
  readonly #context: Low<SessionContext | null>;
  readonly #description: Low<AgentDescription | null>;
  #checkpointQueue: Promise<unknown> = Promise.resolve();

  constructor(sessionsDir: string, id: string, options: FileOptions) {
    this.id = id;
    this.dir = path.join(sessionsDir, id);
    this.#options = options;
    const json = <T>(name: string, validate: (v: unknown) => string | null) =>
      new Low<T | null>(
        new DurableJsonFile<T | null>(path.join(this.dir, name), { ...options, validate }),
        null,
      );
    this.#record = json<SessionRecord>('session.json', validateRecord);
    this.#checkpoint = json<Checkpoint>('checkpoint.json', validateCheckpoint);
    this.#context = json<SessionContext>('context.json', isObject);
    this.#description = json<AgentDescription>('agent-description.json', isObject);
    this.#chatAdapter = new JournaledChatFile(
      path.join(this.dir, 'chat.json'),
      path.join(this.dir, 'chat.log'),
      options,
    );
    this.#chat = new Low<ChatFile>(this.#chatAdapter, emptyChat());
  }

  get archiveDir(): string {
    return path.join(this.dir, 'archive');
  }

  /** Live messages held in memory (only those on disk). */
  get messages(): readonly Message[] {
    return this.#chatAdapter.data.messages;
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

  /** Whether session.json exists. */
  async exists(): Promise<boolean> {
    try {
      await stat(path.join(this.dir, 'session.json'));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /** Creates the session's directory (durably), before its files are written. */
  async prepare(): Promise<void> {
    this.#assertWritable();
    await ensureDir(this.dir);
  }

  /**
   * Reads session.json only: what listing sessions needs, without loading messages.
   * @throws SessionError `SESSION_NOT_FOUND`, `CORRUPT_FILE`
   */
  async readRecord(): Promise<SessionRecord> {
    await this.#record.read();
    const record = this.#record.data;
    if (record === null) {
      throw new SessionError(
        'SESSION_NOT_FOUND',
        'store',
        `no session "${this.id}" under ${path.dirname(this.dir)}; create it with createSession(key)`,
        {
          details: { sessionId: this.id },
        },
      );
    }
    return record;
  }

  /** Creates the directory and session.json (durably). */
  async create(record: SessionRecord): Promise<void> {
    this.#assertWritable();
    await ensureDir(this.dir);
    this.#record.data = record;
    await this.#record.write();
  }

  /**
   * Reads every file, repairs what a crash left half-done, and returns the session.
   * @throws SessionError `SESSION_NOT_FOUND` without session.json; `CORRUPT_FILE` for a file that
   *   does not parse (set aside) or one set aside earlier and not yet dealt with.
   */
  async load(): Promise<LoadedSession> {
    // archive/ too: a damaged segment set aside by readArchive() must stop the session as well,
    // or its messages would silently be missing from the history.
    for (const dir of [this.dir, this.archiveDir]) {
      const waiting = await listSetAside(dir);
      if (waiting.length > 0) {
        const first = waiting[0]!;
        throw corruptFileError(
          path.join(dir, first.slice(0, first.indexOf('.corrupt-'))),
          'it was set aside earlier and still waits for a repair',
          path.join(dir, first),
        );
      }
    }
    await this.#record.read();
    const record = this.#record.data;
    if (record === null) {
      throw new SessionError(
        'SESSION_NOT_FOUND',
        'store',
        `no session "${this.id}" under ${path.dirname(this.dir)}; create it with createSession(key)`,
        {
          details: { sessionId: this.id },
        },
      );
    }
    if (!this.#options.readOnly) await this.#removeStaleTemporaries();
    await this.#checkpoint.read();
    await this.#context.read();
    await this.#description.read();
    await this.#chat.read();
    this.#chat.data = this.#chatAdapter.data;
    const checkpoint = this.#checkpoint.data;
    const repairs: string[] = [];
    const committedSegment = checkpoint?.compactionInfo.segment ?? 0;
    const archivedThroughSeq = checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
    for (const segment of await this.#segmentNumbers()) {
      if (segment <= committedSegment) continue;
      // Written by a compaction that crashed before its checkpoint: its messages are still live.
      if (!this.#options.readOnly) {
        await unlink(path.join(this.archiveDir, segmentFileName(segment)));
        await fsyncDir(this.archiveDir);
      }
      repairs.push(`removed archive segment ${segment}, written by a compaction that did not commit`);
    }
    if (this.messages.some((m) => m.seq <= archivedThroughSeq)) {
      repairs.push(
        `dropped messages up to seq ${archivedThroughSeq} from chat: the checkpoint had archived them`,
      );
      if (this.#options.readOnly) {
        this.#chatAdapter.data.messages = this.messages.filter((m) => m.seq > archivedThroughSeq);
      } else {
        await this.#chatAdapter.dropThrough(archivedThroughSeq);
      }
    }
    return {
      record,
      messages: this.messages,
      checkpoint,
      context: this.#context.data,
      agentDescription: this.#description.data,
      archivedThroughSeq,
      repairs,
      tornRecordsDropped: this.#chatAdapter.stats.tornRecordsDropped,
    };
  }

  /** Appends messages durably; resolves once they are on disk. */
  async appendMessages(messages: readonly Message[]): Promise<void> {
    this.#assertWritable();
    await this.#chatAdapter.append(messages);
  }

  /** Writes session.json. Not on the append path: figures there are derivable. */
  async writeRecord(record: SessionRecord): Promise<void> {
    this.#assertWritable();
    this.#record.data = record;
    await this.#record.write();
  }

  async writeContext(context: SessionContext): Promise<void> {
    this.#assertWritable();
    this.#context.data = context;
    await this.#context.write();
  }

  async writeAgentDescription(description: AgentDescription): Promise<void> {
    this.#assertWritable();
    this.#description.data = description;
    await this.#description.write();
  }

  /**
   * Replaces checkpoint.json without archiving anything (a re-compressed checkpoint, a reset).
   * With `keepChecks`, the checks on disk at the moment of writing are kept, so that checks
   * recorded while a compaction ran are not lost by its commit.
   */
  async writeCheckpoint(checkpoint: Checkpoint, options: { keepChecks?: boolean } = {}): Promise<void> {
    this.#assertWritable();
    await this.#withCheckpoint(async () => {
      this.#checkpoint.data = options.keepChecks ? this.#withCurrentChecks(checkpoint) : checkpoint;
      await this.#checkpoint.write();
    });
  }

  /**
   * Records verification checks in checkpoint.json, replacing those with the same `checkId`;
   * creates a version-0 checkpoint (empty summary) when there is none yet. Returns the checkpoint.
   */
  async recordChecks(
    checks: readonly CheckResult[],
    now: string,
    empty: () => Checkpoint,
  ): Promise<Checkpoint> {
    this.#assertWritable();
    return this.#withCheckpoint(async () => {
      const current = this.#checkpoint.data ?? empty();
      const byId = new Map((current.checks ?? []).map((c) => [c.checkId, c]));
      for (const check of checks) byId.set(check.checkId, { ...check, at: check.at ?? now });
      const next: Checkpoint = { ...current, updatedAt: now, checks: [...byId.values()] };
      this.#checkpoint.data = next;
      await this.#checkpoint.write();
      return next;
    });
  }

  /**
   * Commits a compaction: archive segment, then checkpoint (the commit point), then chat without
   * the archived messages (messages appended meanwhile are kept).
   * @throws SessionError `IO_ERROR` when the segment exists already.
   */
  async commitCompaction(
    segment: ArchiveSegment,
    checkpoint: Checkpoint,
    options: { keepChecks?: boolean } = {},
  ): Promise<void> {
    this.#assertWritable();
    await ensureDir(this.archiveDir);
    const file = path.join(this.archiveDir, segmentFileName(segment.segment));
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    ) {
      throw new SessionError(
        'IO_ERROR',
        'store',
        `archive segment ${file} exists already; segments are immutable`,
      );
    }
    await new DurableJsonFile<ArchiveSegment>(file, this.#options).write(segment);
    await this.#withCheckpoint(async () => {
      this.#checkpoint.data = (options.keepChecks ?? true) ? this.#withCurrentChecks(checkpoint) : checkpoint;
      await this.#checkpoint.write();
    });
    await this.#chatAdapter.dropThrough(segment.lastSeq);
  }

  #withCurrentChecks(checkpoint: Checkpoint): Checkpoint {
    const checks = this.#checkpoint.data?.checks;
    const { checks: _stale, ...rest } = checkpoint;
    return checks ? { ...rest, checks } : rest;
  }

  /** Writes of checkpoint.json one at a time: checks and compaction commits never overwrite each other. */
  #withCheckpoint<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#checkpointQueue.then(operation, operation);
    this.#checkpointQueue = run.catch(() => undefined);
    return run;
  }

  /** Every archived message, oldest first. @throws SessionError `CORRUPT_FILE` for a damaged segment. */
  async readArchive(): Promise<Message[]> {
    const messages: Message[] = [];
    for await (const segment of this.readSegments()) messages.push(...segment.messages);
    return messages;
  }

  /** The committed archive segments, oldest first. */
  async *readSegments(): AsyncGenerator<ArchiveSegment> {
    const committed = this.#checkpoint.data?.compactionInfo.segment ?? 0;
    for (const n of await this.#segmentNumbers()) {
      if (n > committed) continue;
      const file = path.join(this.archiveDir, segmentFileName(n));
      const segment = await new DurableJsonFile<ArchiveSegment>(file, {
        ...this.#options,
        validate: validateSegment,
      }).read();
      if (segment !== null) yield segment;
    }
  }

  /**
   * The newest `count` committed archive segments, newest first: what the runtime reads to find
   * the idempotency keys of recently archived messages without reading the whole archive.
   */
  async *readRecentSegments(count: number): AsyncGenerator<ArchiveSegment> {
    if (!(count > 0)) return;
    const committed = this.#checkpoint.data?.compactionInfo.segment ?? 0;
    const recent = (await this.#segmentNumbers()).filter((n) => n <= committed).slice(-count);
    for (const n of recent.reverse()) {
      const file = path.join(this.archiveDir, segmentFileName(n));
      const segment = await new DurableJsonFile<ArchiveSegment>(file, {
        ...this.#options,
        validate: validateSegment,
      }).read();
      if (segment !== null) yield segment;
    }
  }

  /** Closes file handles after the writes in flight. */
  async close(): Promise<void> {
    await this.#chatAdapter.close();
  }

  /**
   * Temporary files of atomic writes cut short by a crash (`.<file>.<pid>.<hex>.tmp`). The root's
   * lock is ours, so any of another process is an orphan; they never held acknowledged data.
   */
  async #removeStaleTemporaries(): Promise<void> {
    for (const dir of [this.dir, this.archiveDir]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const match = TEMPORARY.exec(name);
        if (match && Number(match[1]) !== process.pid)
          await unlink(path.join(dir, name)).catch(() => undefined);
      }
    }
  }

  async #segmentNumbers(): Promise<number[]> {
    try {
      const names = await readdir(this.archiveDir);
      return names
        .map((name) => SEGMENT_NAME.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
  }

  #assertWritable(): void {
    if (this.#options.readOnly) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'store',
        `session ${this.id} is opened read-only; open the runtime without readOnly to change it`,
      );
    }
  }
}
