/**
 * Which entries of `<root>/.dagent/sessions/` are sessions: the one listing rule, shared by the
 * JSON-file store and by `dagent-sessions list`, which reads it before it loads the store (a root
 * without sessions is answered without it).
 * @internal
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoOf, ioError } from './io-error.js';

/** The directory under a root that holds its sessions. */
export function sessionsDirOf(root: string): string {
  return path.join(path.resolve(root), '.dagent', 'sessions');
}

/**
 * Ids of the session directories in `sessionsDir` (and links to some, which must show up as
 * damaged when they lead out of the root), sorted; none when it does not exist.
 * @throws SessionError `IO_ERROR` when it cannot be read.
 * @example const ids = await sessionIdsIn(sessionsDirOf('/repo'))
 */
export async function sessionIdsIn(sessionsDir: string): Promise<string[]> {
  try {
    const entries = await readdir(sessionsDir, { withFileTypes: true });
    return entries
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return [];
    throw ioError(error, sessionsDir, 'list');
  }
}
