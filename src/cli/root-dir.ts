/**
 * @internal The root a command works on, checked once for every command (those that open a
 * runtime and `list`, which reads the store alone).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SessionError } from '../core/errors.js';

/** @internal The root a command works on: `--root` resolved, or the current directory. */
export function rootOf(root: string | undefined): string {
  return path.resolve(root ?? process.cwd());
}

/**
 * @internal {@link rootOf}, checked to be a directory.
 * @throws SessionError `INVALID_ARGUMENT` when it is not one.
 * @example const root = await rootDirectory(values.root)
 */
export async function rootDirectory(rootOption: string | undefined): Promise<string> {
  const root = rootOf(rootOption);
  const info = await stat(root).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `${root} is not a directory; pass --root DIR with the directory whose .dagent/sessions holds the sessions`,
      { details: { root } },
    );
  }
  return root;
}
