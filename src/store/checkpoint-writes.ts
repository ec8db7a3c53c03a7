/**
 * The writes of checkpoint.json in one session's directory (session-directory.ts): a checkpoint
 * replaced on its own, and a compaction's commit (segment, version copy, then checkpoint.json, the
 * commit point). Each checks its rules first (commit-rules.ts) and writes nothing when one is
 * broken. Callers run them inside the one-at-a-time queue of checkpoint.json.
 * @internal
 */
import type { Low } from 'lowdb';
import type { ArchiveSegment, Checkpoint, Message } from '../core/types.js';
import type { ArchiveDirectory } from './archive-directory.js';
import type { CheckpointHistory } from './checkpoint-history.js';
import { assertLoadableCheckpoint, assertSegmentFollows, checkpointToStore } from './commit-rules.js';
import { persistAfter } from './durable-json-file.js';

/** @internal What the checkpoint writes need of a session's directory. */
export interface CheckpointFiles {
  id: string;
  checkpoint: Low<Checkpoint | null>;
  archive: ArchiveDirectory;
  history: CheckpointHistory;
  /** The live messages, as the directory holds them now. */
  messages(): readonly Message[];
  /** A test hook's step of a commit (see StoreHooks): it may throw to stop the write there. */
  step(step: string): void;
}

/**
 * Replaces checkpoint.json with `checkpoint`, archiving nothing: checkpoint.json goes in place
 * once the version's copy, written beside it, is durable. `keepChecks`: see
 * `SessionDirectory.writeCheckpoint`.
 * @internal
 */
export async function replaceCheckpoint(
  files: CheckpointFiles,
  checkpoint: Checkpoint,
  keepChecks: boolean,
): Promise<void> {
  const next = checkpointToStore(files.checkpoint.data, checkpoint, keepChecks);
  assertLoadableCheckpoint(files.id, next);
  await persistAfter(files.checkpoint, next, (text) => [
    files.history.write(next, text).then(() => files.step('checkpoint-version')),
  ]);
  files.step('checkpoint');
}

/**
 * Writes a compaction's commit: `segment` and the version's copy side by side, then checkpoint.json
 * (the commit point) once both are durable. A segment that is not past the committed one is a
 * leftover of a failed attempt (archive-rules.ts decides whether it may be replaced).
 * @internal
 */
export async function writeCommit(
  files: CheckpointFiles,
  segment: ArchiveSegment,
  checkpoint: Checkpoint,
  keepChecks: boolean,
): Promise<void> {
  const current = files.checkpoint.data;
  const committed = current?.compactionInfo.segment ?? 0;
  if (segment.segment > committed) assertSegmentFollows(files.id, segment, checkpoint, committed);
  const next = checkpointToStore(current, checkpoint, keepChecks);
  // The segment and the version's copy are invisible until checkpoint.json names them, so they
  // are written side by side, with checkpoint.json's temporary, renamed into place (the commit
  // point) once both are durable. A crash may leave either, both or neither: a leftover is
  // replaced by the next commit's atomic rename, and a leftover segment holds nothing not live.
  await persistAfter(files.checkpoint, next, (text) => [
    files.archive.writeChecked(segment, current, files.messages()).then(() => files.step('segment')),
    files.history.write(next, text).then(() => files.step('checkpoint-version')),
  ]);
  files.step('checkpoint');
}
