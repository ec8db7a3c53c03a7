/**
 * Where the restate-server binary of `@restatedev/restate-server` is. That package is a small
 * launcher whose binary comes in a per-platform optional dependency
 * (`@restatedev/restate-server-linux-x64` and so on); we run the binary itself, not the launcher,
 * so that signals reach the server and its pid is the server's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SessionError } from '../core/errors.js';

/** The restate-server binary found in node_modules. */
export interface RestateServerBinary {
  /** Absolute path of the executable. */
  path: string;
  /** Its version, from its package (`1.7.12`). */
  version: string;
}

const INSTALL_HINT =
  'install it beside dagent-sessions (npm install --save-dev @restatedev/restate-server; ' +
  'it is BSL-licensed and about 216 MB) or point to a binary of your own';

/**
 * Finds the restate-server executable installed with `@restatedev/restate-server` for this
 * platform and architecture, resolved from this package (so a project's own install is found).
 *
 * @param from - where resolution starts (a file or directory path); default this module.
 * @returns the executable's path and version.
 * @throws SessionError `SESSION_UNAVAILABLE` when the package (or its binary for this platform) is not
 *   installed, saying how to install it.
 * @example
 * ```ts
 * const { path, version } = resolveRestateServerBinary();
 * ```
 */
export function resolveRestateServerBinary(from: string = import.meta.url): RestateServerBinary {
  const require = createRequire(from);
  const name = `@restatedev/restate-server-${process.platform}-${process.arch}`;
  let manifest: string;
  try {
    manifest = require.resolve(`${name}/package.json`);
  } catch (error) {
    throw new SessionError(
      'SESSION_UNAVAILABLE',
      'runtime',
      `restate: no restate-server binary for ${process.platform}-${process.arch} (${name} is not installed); ` +
        INSTALL_HINT,
      { cause: error },
    );
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { path: path.join(path.dirname(manifest), 'bin', 'restate-server'), version };
}
