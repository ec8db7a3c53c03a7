/**
 * @internal What happens to a file that does not parse: it is set aside under a new name, never
 * overwritten, and the error says which file, why, and what to do.
 */
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, describeError } from '../core/errors.js';
import { fsyncDir } from './durable-fs.js';

/** @internal Suffix of the files set aside: `chat.json.corrupt-20261124T105000123Z`. */
export const CORRUPT_SUFFIX = '.corrupt-';

/** @internal What a CORRUPT_FILE error can say beyond the file and the reason. */
export interface CorruptFileExtra {
  /** What to do, replacing the default "repair it and move it back, or delete it". */
  advice?: (setAsideTo: string | null) => string;
  /** More facts for `details`. */
  details?: Record<string, unknown>;
}

/** @internal Moves `file` aside and returns the error that reports it. */
export async function setAside(
  file: string,
  reason: unknown,
  extra: CorruptFileExtra = {},
): Promise<SessionError> {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const target = `${file}${CORRUPT_SUFFIX}${stamp}`;
  let movedTo: string | null = target;
  try {
    await rename(file, target);
    await fsyncDir(path.dirname(file));
  } catch {
    movedTo = null;
  }
  return corruptFileError(file, describeError(reason), movedTo, extra);
}

/** @internal The CORRUPT_FILE error for a file, whether it has just been set aside or was earlier. */
export function corruptFileError(
  file: string,
  reason: string,
  setAsideTo: string | null,
  extra: CorruptFileExtra = {},
): SessionError {
  const where = setAsideTo
    ? `it was set aside as ${path.basename(setAsideTo)} and nothing was overwritten`
    : 'it was left in place and nothing was overwritten';
  const advice =
    extra.advice?.(setAsideTo) ??
    'Repair it and move it back, or delete the .corrupt-* file to accept the loss, then reopen the session.';
  return new SessionError(
    'CORRUPT_FILE',
    'store',
    `${file} does not parse (${reason}); ${where}. ${advice}`,
    {
      details: { ...extra.details, file, reason, setAsideTo },
    },
  );
}

/** @internal Files of a directory that were set aside earlier and still wait for a person. */
export async function listSetAside(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names.filter((name) => name.includes(CORRUPT_SUFFIX)).sort();
  } catch {
    return [];
  }
}
