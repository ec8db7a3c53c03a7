/**
 * @internal The files of a new session, written with as few syncs one after the other as their
 * order allows. session.json is the commit point (a directory without it is not a session), so
 * every other file must be in place, durably, before it is. Written one by one, each file took a
 * sync of its data and then one of the directory: four syncs one after the other for the first
 * files and session.json. Here:
 * 1. every file, session.json too, is written to its temporary and fdatasynced, side by side;
 * 2. the first files are renamed into place, then the session directory is fsynced (one fsync for
 *    all their entries);
 * 3. session.json is renamed into place and the session directory fsynced.
 * The directories the create made are fsynced side by side with all of it. Three syncs one after
 * the other (two without first files), and nothing of the session is visible as one before step 3.
 */
import type { Low } from 'lowdb';
import { allSettled, fsyncDir, type PreparedWrite } from './durable-fs.js';
import type { DurableJsonFile } from './durable-json-file.js';

/** A file of the session with the value it is created with. */
export interface NewFile {
  /** Writes the value to the file's temporary, durably. */
  prepare(): Promise<PreparedWrite>;
  /** Holds the value in memory (once it is on disk). */
  hold(): void;
}

/** @internal `value` for the file of `db` (a DurableJsonFile's, as every session file's: session-reader.ts). */
export function newFile<T>(db: Low<T | null>, value: T): NewFile {
  return {
    prepare: () => (db.adapter as DurableJsonFile<T | null>).prepare(value),
    hold: () => {
      db.data = value;
    },
  };
}

/**
 * @internal Writes the first files and then `record` (session.json) of the session in `dir`, as
 * the module comment says; `alongside` (a starting checkpoint's own writes) runs side by side with
 * step 1 and must be done before session.json goes in place. `unsynced`: directories whose new
 * entries must be durable too. Each file's value is held in memory once it is on disk.
 * @throws SessionError `IO_ERROR` (session.json not written: no session; no temporary left behind).
 */
export async function writeNewSessionFiles(
  dir: string,
  record: NewFile,
  first: readonly NewFile[],
  options: { unsynced: readonly string[]; alongside?: Promise<void> | null },
): Promise<void> {
  const writes = [record, ...first].map((file) => file.prepare());
  // The new directories' entries: needed durable before this resolves, not before session.json.
  const made = options.unsynced.map((dir) => fsyncDir(dir));
  const settled = await Promise.allSettled(writes);
  const ready = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    // Every write ends before a failure is reported, so that nothing is written after it.
    await allSettled([...writes, options.alongside ?? null]);
    const [recordWrite, ...firstWrites] = ready as [PreparedWrite, ...PreparedWrite[]];
    if (firstWrites.length > 0) {
      await allSettled(firstWrites.map((write) => write.install({ syncDir: false })));
      await fsyncDir(dir); // one sync for every first file's entry
      for (const file of first) file.hold();
    }
    await recordWrite.install(); // the commit point
    record.hold();
  } catch (error) {
    // Temporaries not put in place are removed (an installed one is not touched again).
    await Promise.all([...ready.map((write) => write.discard()), Promise.allSettled(made)]);
    throw error;
  }
  await allSettled(made);
}
