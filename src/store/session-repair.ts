/**
 * @internal What `dagent-sessions repair` does to one session: rebuild, without losing a message,
 * the two files a person may have had to give up. session.json is rebuilt from the session id;
 * checkpoint.json from the archive (the summary of a missing one is lost, the summary of one older
 * than the archive kept). Set-aside files it makes obsolete are renamed `*.replaced-*`, never
 * deleted; a segment, chat.json or chat.log that is damaged itself is left to a person.
 */
import { lstat, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Low } from 'lowdb';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { SessionError } from '../core/errors.js';
import { keyOfSessionId } from '../core/ids.js';
import type { Checkpoint, Message, SessionRecord } from '../core/types.js';
import { SCHEMA_VERSION } from '../core/types.js';
import type { ArchiveDirectory } from './archive-directory.js';
import { notArchived } from './archive-rules.js';
import { CORRUPT_SUFFIX, NOT_A_FILE, inconsistentError, listSetAside, setAside } from './corrupt.js';
import { ensureDir, fsyncDir } from './durable-fs.js';
import { persist, reread } from './durable-json-file.js';
import { rebuiltCheckpoint, rebuiltRecord } from './rebuild.js';
import { removeStaleTemporaries, type SessionParts } from './session-load.js';

/** Suffix a repair gives the set-aside file it made obsolete (kept, never deleted). */
const REPLACED_SUFFIX = '.replaced-';

/** @internal What a repair works on: the session's files, as its SessionDirectory holds them. */
export interface RepairParts {
  id: string;
  dir: string;
  archive: ArchiveDirectory;
  record: Low<SessionRecord | null>;
  checkpoint: Low<Checkpoint | null>;
  /** Reads chat.json + chat.log and returns every message they hold (archived ones included). */
  readChat: () => Promise<readonly Message[]>;
  now: () => string;
}

/**
 * @internal SessionDirectory's repair: its directories checked to be inside the root, stale
 * temporaries removed, then {@link repairSession} on its files, after the checkpoint writes in flight.
 */
export async function repairSessionFiles(parts: SessionParts): Promise<string[]> {
  await parts.assertInsideRoot();
  await removeStaleTemporaries([parts.dir, parts.archiveDir, parts.checkpointsDir]);
  return parts.withCheckpoint(() =>
    repairSession({
      id: parts.id,
      dir: parts.dir,
      archive: parts.archive,
      record: parts.record,
      checkpoint: parts.checkpoint,
      readChat: async () => {
        await parts.chat.read();
        return parts.chatAdapter.data.messages;
      },
      now: () => new Date().toISOString(),
    }),
  );
}

/** @internal Repairs what can be rebuilt losslessly; returns what it did, one line each. */
export async function repairSession(parts: RepairParts): Promise<string[]> {
  const done: string[] = [];
  await repairRecord(parts, done);
  await repairCheckpoint(parts, done);
  return done;
}

/** Set-aside files of `name` in `dir`, after a read that may have set one aside just now. */
async function setAsideOf(dir: string, name: string): Promise<string[]> {
  return (await listSetAside(dir)).filter((n) => n.startsWith(`${name}${CORRUPT_SUFFIX}`));
}

/** Reads a file; a damaged one is set aside by the read, and counts as missing here. */
async function readOrNull<T>(db: Low<T | null>): Promise<T | null> {
  try {
    return await reread(db);
  } catch (error) {
    if (error instanceof SessionError && error.code === 'CORRUPT_FILE') return null;
    throw error;
  }
}

async function repairRecord(parts: RepairParts, done: string[]): Promise<void> {
  const file = path.join(parts.dir, 'session.json');
  const info = await lstat(file).catch(() => null);
  if (info !== null && !info.isFile())
    await setAside(file, 'it is not a plain file', { problem: NOT_A_FILE });
  const record = info?.isFile() ? await readOrNull(parts.record) : null;
  if (record === null) {
    const key = keyOfSessionId(parts.id);
    if (key === null) {
      throw inconsistentError(
        file,
        `it is missing, and the id "${parts.id}" is not one derived from a session key, so it cannot be rebuilt`,
        'Restore session.json by hand (schemaVersion, id, key, createdAt, updatedAt, status, stats).',
      );
    }
    const first = await parts.archive.read(1).catch(() => null);
    const earliest = first?.messages[0]?.timestamp ?? null;
    await ensureDir(parts.dir);
    await persist(parts.record, rebuiltRecord(parts.id, key, SCHEMA_VERSION, earliest, parts.now()));
    done.push('rebuilt session.json from the session id (its figures are recomputed at the next close)');
  }
  await markReplaced(parts.dir, await setAsideOf(parts.dir, 'session.json'), done);
}

async function repairCheckpoint(parts: RepairParts, done: string[]): Promise<void> {
  const file = path.join(parts.dir, 'checkpoint.json');
  const info = await lstat(file).catch(() => null);
  if (info !== null && !info.isFile())
    await setAside(file, 'it is not a plain file', { problem: NOT_A_FILE });
  const current = info?.isFile() ? await readOrNull(parts.checkpoint) : null;
  const waiting = await setAsideOf(parts.dir, 'checkpoint.json');
  const numbers = await parts.archive.numbers();
  const last = numbers[numbers.length - 1] ?? 0;
  if (last <= (current?.compactionInfo.segment ?? 0)) {
    if (current === null && waiting.length > 0) {
      // Nothing archived: an empty checkpoint loses nothing.
      await persist(parts.checkpoint, rebuiltCheckpoint(null, [], parts.now()));
      done.push('rebuilt checkpoint.json: the archive is empty, so it starts over at version 0');
    }
    await markReplaced(parts.dir, waiting, done);
    return;
  }
  // Every segment on disk, 1..last, intact and in order. The newest may be the leftover of a
  // commit that did not complete: its messages are then live too, and committing it loses
  // nothing (the next load drops the live copies, once it has seen them in the archive).
  const segments = await parts.archive.upTo(last);
  const next = rebuiltCheckpoint(current, segments, parts.now());
  const through = next.compactionInfo.archivedThroughSeq;
  const archived = new Map<number, Message>();
  for (const segment of segments) for (const m of segment.messages) archived.set(m.seq, m);
  const lost = notArchived(await parts.readChat(), through, archived);
  if (lost.length > 0) {
    throw inconsistentError(
      file,
      `it cannot be rebuilt from the archive: live messages ${lost.map((m) => m.seq).join(', ')} ` +
        `are at or below seq ${through} but not in the archive`,
      'Restore checkpoint.json from a backup.',
    );
  }
  const problems = checkpointProblems(next);
  if (problems.length > 0)
    throw inconsistentError(file, `the rebuilt checkpoint is invalid: ${problems.join('; ')}`);
  await persist(parts.checkpoint, next);
  done.push(
    `rebuilt checkpoint.json from archive segments 1..${last} (${next.compactionInfo.archivedMessages} ` +
      `messages through seq ${through})${current ? ', keeping its summary' : '; its summary was lost'}`,
  );
  await markReplaced(parts.dir, waiting, done);
}

/** Renames set-aside files a repair made obsolete, so that load stops waiting for them. */
async function markReplaced(dir: string, names: string[], done: string[]): Promise<void> {
  for (const name of names) {
    const replaced = name.replace(CORRUPT_SUFFIX, REPLACED_SUFFIX);
    await rename(path.join(dir, name), path.join(dir, replaced));
    done.push(`renamed ${name} to ${replaced} (kept; delete it once you no longer need it)`);
  }
  if (names.length > 0) await fsyncDir(dir);
}
