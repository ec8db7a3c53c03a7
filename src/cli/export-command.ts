/**
 * `dagent-sessions export ID`: everything about a session (info, checkpoint, context, agent
 * description, full history) as JSON, to stdout or to a file.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, describeError } from '../core/errors.js';
import { atomicWriteFile } from '../store/durable-fs.js';
import { defineCommand } from './command.js';
import { n } from './format.js';
import type { CliCommand } from './io.js';
import { rootOf, withRuntime } from './open-runtime.js';

const USAGE = `Usage: dagent-sessions export ID [--root DIR] [--out FILE] [--json]

Prints session ID as JSON: { exportedAt, session, checkpoint, context, agentDescription,
history }, where history is every message ever appended (archived, then live). Reads only:
works while a host holds the root.

Options:
  --root DIR        the root (default: the current directory)
  --out FILE        write the JSON to FILE (atomically: a complete file or none) instead of stdout;
                    never inside <root>/.dagent
  --json            with --out: print what was written ({ file, sessionId, messages, bytes }) as JSON
  -h, --help        show this help`;

/** `path` with every existing part resolved (symlinks followed); the parts that do not exist yet appended. */
async function realPathOf(file: string): Promise<string> {
  const missing: string[] = [];
  for (let dir = file; ; dir = path.dirname(dir)) {
    try {
      return path.join(await realpath(dir), ...missing.reverse());
    } catch {
      if (path.dirname(dir) === dir) return file;
      missing.push(path.basename(dir));
    }
  }
}

/**
 * `file`, unless it is inside the store `<root>/.dagent` (symlinks resolved, on both sides).
 * @throws SessionError `INVALID_ARGUMENT` naming both paths.
 */
async function outsideStore(file: string, root: string): Promise<string> {
  const store = await realPathOf(path.join(root, '.dagent'));
  const target = await realPathOf(file);
  const inside = path.relative(store, target);
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `--out ${file} is inside the session store ${store}: ` +
        `writing there could overwrite a session's files; choose a path outside ${store}`,
      { details: { out: file, store } },
    );
  }
  return file;
}

/**
 * `dagent-sessions export ID [--root DIR] [--out FILE] [--json]`.
 * Exit 0; 1 with `SESSION_NOT_FOUND` when there is no such session, `INVALID_ARGUMENT` when FILE is
 * inside `<root>/.dagent` (symlinks resolved), `IO_ERROR` when FILE cannot be written.
 * @example await exportCommand(['feature--f1--pm', '--out', 'f1.json'], processIO)
 */
export const exportCommand: CliCommand = defineCommand(
  {
    name: 'export',
    usage: USAGE,
    positionals: ['ID'],
    options: {
      root: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
  },
  async ({ values, positionals: [id = ''] }, io) => {
    // Checked before anything is read: a path into the store could overwrite a session's files.
    const file =
      values.out === undefined ? null : await outsideStore(path.resolve(values.out), rootOf(values.root));
    const data = await withRuntime({ root: values.root, command: 'export', write: false }, (runtime) =>
      runtime.exportSession(id),
    );
    const text = JSON.stringify(data, null, 2);
    if (file === null) {
      io.out(text);
      return 0;
    }
    try {
      await atomicWriteFile(file, `${text}\n`);
    } catch (error) {
      throw new SessionError(
        'IO_ERROR',
        'cli',
        `cannot write ${file}: ${describeError(error)}; check that its directory exists and is writable`,
        { cause: error },
      );
    }
    const bytes = Buffer.byteLength(text) + 1;
    if (values.json) io.out(JSON.stringify({ file, sessionId: id, messages: data.history.length, bytes }));
    else io.out(`Exported ${id} (${n(data.history.length)} messages, ${n(bytes)} bytes) to ${file}`);
    return 0;
  },
);
