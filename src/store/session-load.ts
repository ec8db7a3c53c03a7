/**
 * Loading one session's directory: read every file, check that they add up, recognise what a
 * crash or a failed commit left half-done, and return the session. Deletes nothing that ever held
 * acknowledged data: archived messages still in chat are dropped only once the archive is seen to
 * hold each one identically, and anything that does not add up is a `CORRUPT_FILE` naming the
 * file and what to do (the rules of the archive are in archive-rules.ts).
 * @internal
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Low } from 'lowdb';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import type { OneAtATime } from '../core/one-at-a-time.js';
import { SessionError } from '../core/errors.js';
import type {
  AgentDescription,
  ChatFile,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import type { ArchiveDirectory } from './archive-directory.js';
import { messagesProblem, notArchived } from './archive-rules.js';
import type { CheckpointHistory } from './checkpoint-history.js';
import type { SessionCounts } from './contract.js';
import { corruptFileError, inconsistentError, setAside } from './corrupt.js';
import { assertNothingSetAside, assertPlainFiles, missingRecordError } from './directory-guards.js';
import { allSettled, isOrphanTemporary } from './durable-fs.js';
import { persist, reread } from './durable-json-file.js';
import type { JournaledChatFile } from './journaled-chat-file.js';
import { NO_COUNTS, type FileOptions, type LoadedSession } from './session-files.js';

/** The parts of a session's directory a load reads (owned by SessionDirectory). */
export interface SessionParts {
  id: string;
  dir: string;
  archiveDir: string;
  checkpointsDir: string;
  options: FileOptions;
  record: Low<SessionRecord | null>;
  chat: Low<ChatFile>;
  chatAdapter: JournaledChatFile;
  checkpoint: Low<Checkpoint | null>;
  context: Low<SessionContext | null>;
  description: Low<AgentDescription | null>;
  counts: Low<SessionCounts | null>;
  archive: ArchiveDirectory;
  history: CheckpointHistory;
  /** The live messages: chat without those the checkpoint has archived. */
  messages: () => readonly Message[];
  /** Runs a write of checkpoint.json after those in flight (one at a time). */
  withCheckpoint: OneAtATime;
  /** Throws when a directory of the session is a link leading out of the root. */
  assertInsideRoot: () => Promise<void>;
}

/**
 * Reads every file of the session once, checks and repairs (see the module comment), and returns
 * what a session actor needs.
 * @throws SessionError `SESSION_NOT_FOUND`, `CORRUPT_FILE` (see SessionDirectory.load).
 */
export async function loadSession(parts: SessionParts): Promise<LoadedSession> {
  const { options } = parts;
  await parts.assertInsideRoot();
  // Reads that change nothing, and reads of files independent of each other, run side by side
  // (each one is a round trip to the thread pool); the first failure in this order is reported.
  await allSettled([assertNothingSetAside(parts.dir), assertNothingSetAside(parts.archiveDir)]);
  await assertPlainFiles(parts.dir, options.readOnly);
  const record = await reread(parts.record);
  if (record === null) throw await missingRecordError(parts.dir, parts.id);
  await allSettled([
    options.readOnly ? null : removeStaleTemporaries([parts.dir, parts.archiveDir, parts.checkpointsDir]),
    reread(parts.context),
    reread(parts.description),
    // Counts are hints (a reader checks their hash): a damaged counts.json is set aside and ignored.
    reread(parts.counts).catch((error: unknown) => {
      if (!(error instanceof SessionError && error.code === 'CORRUPT_FILE')) throw error;
      parts.counts.data = null;
    }),
  ]);
  // Chat before the checkpoint: a commit writes the checkpoint before it folds chat, so chat
  // read first holds every message the checkpoint read next has not archived.
  await parts.chat.read();
  parts.chat.data = parts.chatAdapter.data;
  await checkChat(parts);
  await reread(parts.checkpoint);
  const repairs: string[] = [];
  const notes = await parts.archive.checkListing(parts.checkpoint.data, parts.messages());
  await checkNothingMissing(parts, record);
  await dropArchivedFromChat(parts, repairs);
  if (!options.readOnly) await keepHandEdit(parts, notes);
  return {
    record,
    messages: parts.messages(),
    checkpoint: parts.checkpoint.data,
    context: parts.context.data,
    agentDescription: parts.description.data,
    counts: { ...NO_COUNTS, ...parts.counts.data },
    archivedThroughSeq: archivedThroughSeq(parts),
    repairs,
    notes,
    tornRecordsDropped: parts.chatAdapter.stats.tornRecordsDropped,
    uncounted: [...parts.chatAdapter.uncounted].filter((seq) => seq > archivedThroughSeq(parts)),
  };
}

/**
 * The session just created through `parts` (its files written by this process, durably, its
 * directory found absent first, so without chat.json or chat.log), as {@link loadSession} would
 * return it, from memory: nothing is read. Null when a full load must check more: a starting
 * checkpoint that names archived messages.
 */
export async function createdSession(parts: SessionParts): Promise<LoadedSession | null> {
  const record = parts.record.data;
  const checkpoint = parts.checkpoint.data;
  if (record === null) return null;
  if (checkpoint !== null && (checkpoint.compactionInfo.segment > 0 || archivedThroughSeq(parts) >= 0))
    return null;
  // Its directory held no chat.json or chat.log when it was found absent: there is nothing to read.
  await parts.chatAdapter.readCreated();
  parts.chat.data = parts.chatAdapter.data;
  return {
    record,
    messages: parts.messages(),
    checkpoint,
    context: parts.context.data,
    agentDescription: parts.description.data,
    counts: { ...NO_COUNTS, ...parts.counts.data },
    archivedThroughSeq: -1,
    repairs: [],
    notes: [],
    tornRecordsDropped: 0,
    uncounted: [],
  };
}

/**
 * Removes temporary files of atomic writes cut short by a crash (`.<file>.<pid>.<hex>.tmp`) from
 * `dirs`. The root's lock is ours, so any of another process is an orphan; they never held
 * acknowledged data.
 */
export async function removeStaleTemporaries(dirs: readonly string[]): Promise<void> {
  await Promise.all(
    dirs.map(async (dir) => {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (isOrphanTemporary(name)) await unlink(path.join(dir, name)).catch(() => undefined);
      }
    }),
  );
}

function archivedThroughSeq(parts: SessionParts): number {
  return parts.checkpoint.data?.compactionInfo.archivedThroughSeq ?? -1;
}

/** Messages must be messages, in increasing seq order; a malformed one is a damaged file. */
async function checkChat(parts: SessionParts): Promise<void> {
  const chat = parts.chatAdapter.data;
  const found = messagesProblem(chat.messages);
  if (found === null) return;
  // Messages above the snapshot's seq were replayed from the log; the rest came from chat.json.
  const seq = (chat.messages[found.index] as { seq?: unknown } | null)?.seq;
  const fromLog = typeof seq === 'number' && seq > chat.snapshotSeq;
  const file = fromLog ? parts.chatAdapter.logFile : parts.chatAdapter.snapshotFile;
  throw parts.options.readOnly
    ? corruptFileError(file, found.problem, null)
    : await setAside(file, found.problem);
}

/**
 * Messages acknowledged before session.json was last written (it counts them at every close
 * and compaction) must all be in archive + chat; fewer means a chat file was lost.
 */
async function checkNothingMissing(parts: SessionParts, record: SessionRecord): Promise<void> {
  const { chatAdapter } = parts;
  const counted = record.stats?.totalMessages;
  const archived = parts.checkpoint.data?.compactionInfo.archivedMessages ?? 0;
  const live = parts.messages().length;
  const held = archived + live;
  const through = archivedThroughSeq(parts);
  const [snapshot, log] = await Promise.all([exists(chatAdapter.snapshotFile), exists(chatAdapter.logFile)]);
  const raw = chatAdapter.data.messages;
  // After a commit, its fold wrote chat.json (or, if it was cut short, the log still holds the
  // archived messages); and every fold leaves chat.log behind.
  if (!snapshot && through >= 0 && !(raw.length > 0 && raw[0]!.seq <= through)) {
    throw inconsistentError(
      chatAdapter.snapshotFile,
      `it is missing, but checkpoint.json says messages through seq ${through} were archived, and ` +
        `the fold of that commit wrote chat.json: the live messages it held are gone unless it is ` +
        `restored`,
    );
  }
  if (snapshot && !log) {
    throw inconsistentError(
      chatAdapter.logFile,
      'it is missing, but chat.json exists, and every fold leaves chat.log behind: the messages ' +
        'appended since the last fold are gone unless it is restored',
    );
  }
  if (typeof counted === 'number' && counted > held) {
    const file = snapshot ? chatAdapter.logFile : chatAdapter.snapshotFile;
    throw inconsistentError(
      file,
      `session.json counted ${counted} messages when it was last written, but the archive (${archived}) ` +
        `and chat (${live}) hold ${held}: messages are missing`,
    );
  }
}

/**
 * A crash after the checkpoint and before the chat fold leaves archived messages in chat too:
 * they are dropped from chat, but only once the archive is seen to hold each one identically.
 */
async function dropArchivedFromChat(parts: SessionParts, repairs: string[]): Promise<void> {
  const through = archivedThroughSeq(parts);
  const stale = parts.chatAdapter.data.messages.filter((m) => m.seq <= through);
  if (stale.length === 0) return;
  const archived = new Map<number, Message>();
  for await (const segment of parts.archive.committed(parts.checkpoint.data)) {
    if (segment.lastSeq < stale[0]!.seq) continue;
    for (const m of segment.messages) archived.set(m.seq, m);
  }
  const lost = notArchived(stale, through, archived);
  if (lost.length > 0) {
    const seqs = lost.map((m) => m.seq).join(', ');
    throw inconsistentError(
      path.join(parts.dir, 'checkpoint.json'),
      `it says messages through seq ${through} are archived, but live messages ${seqs} are not in the archive`,
    );
  }
  repairs.push(`dropped messages up to seq ${through} from chat: the checkpoint had archived them`);
  if (parts.options.readOnly) return;
  await parts.chatAdapter.dropThrough(through);
  await parts.chatAdapter.settled(); // its fold, done when the load is (if it fails, the next load repairs)
}

/**
 * A checkpoint.json edited by hand (its content differs from the copy its version was committed
 * as, checks aside: they are recorded into the current version) becomes a version of its own,
 * so that the version the commit wrote stays readable and the inspector can diff the two.
 */
async function keepHandEdit(parts: SessionParts, notes: string[]): Promise<void> {
  const current = parts.checkpoint.data;
  if (current === null) return;
  const committed = await parts.history.read(current.version).catch(() => null);
  const content = (c: Checkpoint) => JSON.stringify({ ...c, checks: undefined, updatedAt: undefined });
  if (committed === null || content(committed) === content(current)) return;
  const next: Checkpoint = {
    ...current,
    version: current.version + 1,
    updatedAt: new Date().toISOString(),
  };
  if (checkpointProblems(next).length > 0) return;
  await parts.withCheckpoint(async () => {
    await parts.history.write(next);
    await persist(parts.checkpoint, next);
  });
  notes.push(
    `checkpoint.json was edited by hand: kept as version ${next.version}; version ${current.version} ` +
      'stays as its commit wrote it',
  );
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}
