/**
 * @internal How a journal (snapshot + log) is read so that nothing acknowledged is missed, even
 * while a writer in another process appends and folds.
 *
 * A fold writes the snapshot first and empties the log after, and snapshots only move forward.
 * So the log is read first and the snapshot after it: every record acknowledged before the read
 * began is in the log as read or, if a fold emptied the log since, in the snapshot read after it.
 * (Read the other way round, a fold between the two reads would hide the records it moved: that
 * is how a reader used to miss acknowledged messages.) A log emptied while it is being read can
 * look damaged, so a read-only reader reads again before it believes damage.
 */
import { lstat } from 'node:fs/promises';
import type { ChatFile } from '../core/types.js';
import { lastSeqOf } from './chat-data.js';
import { replayLog, type Replay } from './chat-log-format.js';
import { isErrno, readBytesOrNull } from './durable-fs.js';
import type { DurableJsonFile } from './durable-json-file.js';
import { ioError } from './io-error.js';

/** How often a read-only reader reads a damaged log before it believes the damage. */
const DAMAGE_READS = 3;

/** @internal What {@link readJournal} found. */
export interface JournalRead {
  snapshot: ChatFile | null;
  snapshotBytes: number;
  log: Buffer | null;
  /** The log's records, or null without a log. */
  replay: Replay | null;
}

/**
 * @internal Reads the log, then the snapshot (see above).
 * @throws SessionError `CORRUPT_FILE` for a snapshot that does not parse or a file that is a link;
 *   `IO_ERROR` when a read fails. Damage in the log is returned in `replay`, not thrown.
 */
export async function readJournal(
  snapshotFile: DurableJsonFile<ChatFile>,
  logFile: string,
  readOnly: boolean,
): Promise<JournalRead> {
  for (let attempt = 1; ; attempt++) {
    const log = await readBytesOrNull(logFile);
    const snapshot = await snapshotFile.read();
    const snapshotBytes = await sizeOf(snapshotFile.file);
    const replay = log === null ? null : replayLog(log);
    const suspect = readOnly && replay !== null && replay.damagedAt !== null;
    if (!suspect || attempt >= DAMAGE_READS) return { snapshot, snapshotBytes, log, replay };
  }
}

/** A file's size, 0 when it does not exist. */
async function sizeOf(file: string): Promise<number> {
  try {
    return (await lstat(file)).size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 0;
    throw ioError(error, file, 'stat');
  }
}

/**
 * @internal Adds to `chat` (a snapshot as read) the replayed messages it does not hold, in order,
 * and notes in `uncounted` those the log recorded without their exact count.
 */
export function appendReplayed(chat: ChatFile, replay: Replay, uncounted: Set<number>): void {
  // snapshotSeq, not the last message held: a fold that dropped messages (dropThrough) may
  // leave a snapshot with fewer messages than its log, if it was cut before the truncation.
  let last = Math.max(chat.snapshotSeq, lastSeqOf(chat.messages));
  for (const message of replay.messages) {
    if (message.seq <= last) continue; // already in the snapshot (a fold was cut short) or repeated
    chat.messages.push(message);
    if (replay.uncounted.has(message.seq)) uncounted.add(message.seq);
    last = message.seq;
  }
}
