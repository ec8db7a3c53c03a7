/**
 * @internal Where this package is installed, and its version: the nearest directory above this
 * module whose package.json is named `dagent-sessions`. The same code runs from a checkout
 * (`src/cli/`, through tsx) and from an install (`dist/src/cli/`), at different depths.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'dagent-sessions';

let found: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (found) return found;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (json.name === NAME) {
        found = { root: dir, version: typeof json.version === 'string' ? json.version : '0.0.0' };
        return found;
      }
    } catch {
      // No package.json here (or not readable): look further up.
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`${NAME}: no package.json named ${NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * @internal The package's root directory (where package.json, docs/ and dist/ are).
 * @example path.join(packageRoot(), 'docs', 'inspector.md')
 */
export function packageRoot(): string {
  return locate().root;
}

/**
 * @internal The package's version, from its package.json.
 * @example io.out(`dagent-sessions ${packageVersion()}`)
 */
export function packageVersion(): string {
  return locate().version;
}
