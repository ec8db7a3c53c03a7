/**
 * @internal Checks a session directory passes before anything reads or writes in it: it stays
 * inside the root, its files are plain files, nothing set aside waits for a person, and a missing
 * session.json is told apart from an absent session.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import type { SessionPresence } from './contract.js';
import { allSettled, assertInsideRoot as assertInsideRootOf, isErrno } from './durable-fs.js';
import {
  CORRUPT_SUFFIX,
  NOT_A_FILE,
  corruptFileError,
  inconsistentError,
  listSetAside,
  setAside,
} from './corrupt.js';

/** @internal The files of a session directory, besides archive/. */
export const STORE_FILES = [
  'session.json',
  'chat.json',
  'chat.log',
  'checkpoint.json',
  'context.json',
  'agent-description.json',
] as const;

/** Files that only a created session (one whose session.json was written) can hold. */
const SESSION_DATA = new Set(['chat.json', 'chat.log', 'archive']);

/**
 * @internal The session's directories must be directories inside `root`: a link leading out of it
 * (durable-fs's {@link assertInsideRootOf}) would make every write land outside it.
 * Missing directories pass (they are created inside the root).
 * @throws SessionError `CORRUPT_FILE` naming the directory and what to do.
 */
export async function assertInsideRoot(root: string, dirs: readonly string[]): Promise<void> {
  // Every directory is looked at side by side; the first one that fails, in the order given, is reported.
  const checks = dirs.map(async (dir) => {
    const info = await lstat(dir).catch(() => null);
    if (info === null) return;
    if (!info.isDirectory() && !info.isSymbolicLink()) {
      throw inconsistentError(dir, 'it is not a directory', 'Move it aside, then open the session again.');
    }
    await assertInsideRootOf(dir, root);
  });
  await allSettled(checks);
}

/**
 * @internal A link (maybe leading out of the root), a directory or a FIFO in a store file's place
 * is set aside (unless read-only) before anything reads or writes through it.
 * @throws SessionError `CORRUPT_FILE`
 */
export async function assertPlainFiles(dir: string, readOnly: boolean): Promise<void> {
  // Looked at side by side; the first that is not a plain file, in STORE_FILES' order, is set aside.
  const infos = await Promise.all(STORE_FILES.map((name) => lstat(path.join(dir, name)).catch(() => null)));
  for (const [i, name] of STORE_FILES.entries()) {
    const file = path.join(dir, name);
    const info = infos[i]!;
    if (info === null || info.isFile()) continue;
    const what = info.isSymbolicLink()
      ? 'a symbolic link'
      : info.isDirectory()
        ? 'a directory'
        : 'not a file';
    throw readOnly
      ? corruptFileError(file, `it is ${what}`, null, { problem: NOT_A_FILE })
      : await setAside(file, `it is ${what}`, { problem: NOT_A_FILE });
  }
}

/**
 * @internal A file set aside earlier (`*.corrupt-*`) waits for a person: until then the session
 * does not load and its archive is not read.
 * @throws SessionError `CORRUPT_FILE` naming the first one.
 */
export async function assertNothingSetAside(dir: string): Promise<void> {
  const waiting = await listSetAside(dir);
  if (waiting.length === 0) return;
  const first = waiting[0]!;
  throw corruptFileError(
    path.join(dir, first.slice(0, first.indexOf(CORRUPT_SUFFIX))),
    'it was set aside earlier and still waits for a repair',
    path.join(dir, first),
    { problem: 'is damaged' },
  );
}

/** @internal The entries of `dir` that only a created session holds (and set-aside files). */
export async function sessionDataFound(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    const found = names.filter((name) => SESSION_DATA.has(name) || name.includes(CORRUPT_SUFFIX));
    // createSession writes a starting checkpoint (a migrated conversation's) before session.json:
    // alone, it is what an interrupted creation leaves; beside messages, it is a session's.
    if (found.length > 0 && names.includes('checkpoint.json')) found.push('checkpoint.json');
    return found.sort();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

/**
 * @internal The error for a session.json that cannot be read: CORRUPT_FILE when the directory
 * holds a session (its files, or session.json set aside), SESSION_NOT_FOUND when it holds none.
 */
export async function missingRecordError(dir: string, id: string): Promise<SessionError> {
  const file = path.join(dir, 'session.json');
  const aside = (await listSetAside(dir)).find((n) => n.startsWith(`session.json${CORRUPT_SUFFIX}`));
  if (aside) {
    return corruptFileError(
      file,
      'it was set aside earlier and still waits for a repair',
      path.join(dir, aside),
      { problem: 'is damaged' },
    );
  }
  const info = await lstat(file).catch(() => null);
  if (info !== null)
    return corruptFileError(file, 'it is a link, a directory or another non-file', null, {
      problem: NOT_A_FILE,
    });
  const found = await sessionDataFound(dir);
  if (found.length > 0) {
    return inconsistentError(
      file,
      `it is missing, but the directory holds ${found.join(', ')}: this is a damaged session, not an absent one`,
    );
  }
  return new SessionError(
    'SESSION_NOT_FOUND',
    'store',
    `no session "${id}" under ${path.dirname(dir)}; create it with createSession(key)`,
    { details: { sessionId: id } },
  );
}

/**
 * @internal Whether `dir` holds a session, without reading it (see SessionPresence). No directory,
 * nothing in it to look at: the usual case before a create, in one lstat. `assertInside` runs
 * once a directory is found (a link leading out of the root is `CORRUPT_FILE`).
 */
export async function sessionPresence(
  dir: string,
  assertInside: () => Promise<void>,
): Promise<SessionPresence> {
  const missing = await lstat(dir).then(
    () => false,
    (error: unknown) => isErrno(error, 'ENOENT'),
  );
  if (missing) return 'absent';
  await assertInside();
  const info = await lstat(path.join(dir, 'session.json')).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  });
  if (info !== null) return info.isFile() ? 'present' : 'damaged';
  return (await sessionDataFound(dir)).length > 0 ? 'damaged' : 'absent';
}

/** @internal Refuses a change to session `id` opened read-only, saying how to open it. */
export function assertWritableSession(readOnly: boolean | undefined, id: string): void {
  if (readOnly) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'store',
      `session ${id} is opened read-only; open the runtime without readOnly to change it`,
    );
  }
}
