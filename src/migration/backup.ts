/**
 * @internal Backups of legacy files: a byte-identical copy beside the original,
 * `<name>.backup-<time>`, created exclusively (never replacing anything) and made durable.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, isErrno } from '../store/durable-fs.js';
import { compactTimestamp } from './manifest.js';

/** @internal The name a backup of `file` gets at `now` (before any collision suffix). */
export function backupPathOf(file: string, now: Date): string {
  return `${file}.backup-${compactTimestamp(now)}`;
}

/**
 * @internal Writes `bytes` to a new file at `target` (or `target-2`, `-3`... when taken), fsyncs
 * it and its directory, and returns the path used. Never overwrites a file.
 */
export async function writeNewFile(target: string, bytes: Buffer): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const candidate = attempt === 1 ? target : `${target}-${attempt}`;
    let handle;
    try {
      handle = await open(candidate, 'wx');
    } catch (error) {
      if (isErrno(error, 'EEXIST') && attempt < 100) continue;
      throw error;
    }
    try {
      await handle.writeFile(bytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await fsyncDir(path.dirname(candidate));
    return candidate;
  }
}

/** @internal Backs up a legacy file's bytes beside it; returns the backup's absolute path. */
export async function writeBackup(file: string, bytes: Buffer, now: Date): Promise<string> {
  return writeNewFile(backupPathOf(file, now), bytes);
}
