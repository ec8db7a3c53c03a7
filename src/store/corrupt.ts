/**
 * @internal What happens to a damaged file: it is set aside under a new name, never overwritten
 * and never deleted, and the error says which file, why, and what a person should do, which
 * depends on what the file holds: deleting a file that holds messages would lose them.
 */
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, describeError } from '../core/errors.js';
import { fsyncDir } from './durable-fs.js';

/** @internal The problem of a link, a directory or another non-file in a store file's place. */
export const NOT_A_FILE = 'is not a plain file';

/** @internal Suffix of the files set aside: `chat.json.corrupt-20261124T105000123Z`. */
export const CORRUPT_SUFFIX = '.corrupt-';

/** @internal What a CORRUPT_FILE error can say beyond the file and the reason. */
export interface CorruptFileExtra {
  /** What is wrong with the file (default: it does not parse). */
  problem?: string;
  /** What to do, replacing the advice by what the file holds ({@link adviceFor}). */
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
  const problem = extra.problem ?? 'does not parse';
  const where = setAsideTo
    ? `it was set aside as ${path.basename(setAsideTo)} and nothing was overwritten or deleted`
    : 'it was left in place and nothing was overwritten or deleted';
  const advice = extra.advice?.(setAsideTo) ?? adviceFor(file, setAsideTo, problem);
  return new SessionError('CORRUPT_FILE', 'store', `${file} ${problem} (${reason}); ${where}. ${advice}`, {
    details: { ...extra.details, file, reason, setAsideTo },
  });
}

/**
 * @internal CORRUPT_FILE for a session whose files disagree or are missing (nothing set aside):
 * `file` is the one to restore, `reason` what was found.
 */
export function inconsistentError(file: string, reason: string, advice?: string): SessionError {
  return new SessionError(
    'CORRUPT_FILE',
    'store',
    `${file} is damaged: ${reason}. Nothing was changed or deleted. ${advice ?? adviceFor(file, null)}`,
    { details: { file, reason, setAsideTo: null, inconsistent: true } },
  );
}

/** The session id of a file inside `<root>/.dagent/sessions/<id>/`, for the repair command. */
function sessionIdOfFile(file: string): string {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf('sessions');
  return at >= 0 && parts[at + 1] ? parts[at + 1]! : '<id>';
}

/**
 * @internal What a person should do about a damaged file, by what it holds. Files that hold
 * messages must never be deleted; the checkpoint and session.json can be rebuilt losslessly
 * (`dagent-sessions repair`); context and description can be given up and set again.
 */
export function adviceFor(file: string, setAsideTo: string | null, problem?: string): string {
  const name = path.basename(file);
  const aside = setAsideTo ? path.basename(setAsideTo) : null;
  if (problem === NOT_A_FILE) {
    const moveOut = aside ? `, move ${aside} out of the session directory` : '';
    return (
      `To recover: put the session's own ${name} back in its place as a plain file (from a backup, ` +
      `or a copy of the file a link pointed to if it is this session's)${moveOut}, then open the ` +
      `session again. The store never reads or writes through links.`
    );
  }
  const restore = aside
    ? `repair the copy ${aside} (or take ${name} from a backup), delete its "$crc32" field if you ` +
      `edited it by hand, and rename it back to ${name}`
    : `repair ${name} in place or replace it with a copy from a backup (delete its "$crc32" field ` +
      `if you edited it by hand)`;
  const reopen = 'then open the session again';
  const repair = `dagent-sessions repair --root <root> ${sessionIdOfFile(file)}`;
  const keep = aside ? ` Do not delete ${aside}: ` : ' Do not delete it: ';
  if (name === 'chat.json' || name === 'chat.log') {
    return `To recover: ${restore}; ${reopen}.${keep}it holds live messages that are stored nowhere else.`;
  }
  if (/^\d{6}\.json$/.test(name)) {
    return `To recover: ${restore}; ${reopen}.${keep}it holds archived messages that are stored nowhere else.`;
  }
  if (name === 'checkpoint.json') {
    return (
      `To recover: ${restore}; or run \`${repair}\`, which rebuilds checkpoint.json from the archive ` +
      `(every message is kept, the summary is lost); ${reopen}.${keep}it holds the checkpoint's ` +
      `summary.`
    );
  }
  if (name === 'session.json') {
    return (
      `To recover: ${restore}; or run \`${repair}\`, which rebuilds session.json from the session ` +
      `id and its files; ${reopen}. createSession refuses a damaged session, so that it never overwrites ` +
      `its files.`
    );
  }
  if (name === 'context.json' || name === 'agent-description.json') {
    return (
      `To recover: ${restore}; ${reopen}. Or${aside ? ` delete ${aside} to` : ''} accept losing ` +
      `it (no message is lost) and set it again (setContext / setAgentDescription).`
    );
  }
  return `To recover: ${restore}; ${reopen}.`;
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
