/**
 * `dagent-sessions export ID`: everything about a session (info, checkpoint, context, agent
 * description, full history) as JSON, to stdout or to a file.
 */
import path from 'node:path';
import { SessionError, describeError } from '../core/errors.js';
import { atomicWriteFile } from '../store/durable-fs.js';
import { defineCommand } from './command.js';
import { n } from './format.js';
import type { CliCommand } from './io.js';
import { withRuntime } from './open-runtime.js';

const USAGE = `Usage: dagent-sessions export ID [--root DIR] [--out FILE] [--json]

Prints session ID as JSON: { exportedAt, session, checkpoint, context, agentDescription,
history }, where history is every message ever appended (archived, then live). Reads only:
works while a host holds the root.

Options:
  --root DIR        the root (default: the current directory)
  --out FILE        write the JSON to FILE (atomically: a complete file or none) instead of stdout
  --json            with --out: print what was written ({ file, sessionId, messages, bytes }) as JSON
  -h, --help        show this help`;

/**
 * `dagent-sessions export ID [--root DIR] [--out FILE] [--json]`.
 * Exit 0; 1 with `SESSION_NOT_FOUND` when there is no such session, `IO_ERROR` when FILE cannot be written.
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
    const data = await withRuntime({ root: values.root, command: 'export', write: false }, (runtime) =>
      runtime.exportSession(id),
    );
    const text = JSON.stringify(data, null, 2);
    if (values.out === undefined) {
      io.out(text);
      return 0;
    }
    const file = path.resolve(values.out);
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
