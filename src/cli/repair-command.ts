/**
 * `dagent-sessions repair ID`: what a damaged session's error message sends a person to. It
 * rebuilds, without losing a message, the two files that describe a session's data rather than
 * hold it: session.json (from the session id) and checkpoint.json (from the archive), then loads
 * the session to say whether it is whole again.
 */
import { assertSessionId } from '../core/ids.js';
import { JsonFileSessionStore } from '../store/session-store.js';
import { defineCommand } from './command.js';
import type { CliCommand } from './io.js';
import { rootOf } from './open-runtime.js';

const USAGE = `Usage: dagent-sessions repair ID [--root DIR] [--json]

Rebuilds what session ID needs and can be rebuilt without losing a message: a missing or
damaged session.json (from the session id; its figures are recomputed at the next close), and a
missing, damaged or outdated checkpoint.json (from the archive segments: every archived message
is kept; the summary of a lost checkpoint is lost, that of an outdated one kept). Damaged files
set aside as *.corrupt-* that it replaces are renamed *.replaced-*, never deleted. It does not
touch chat.json, chat.log or archive segments: those hold messages, and a person restores them.
Then it loads the session and says whether it is whole. Needs the root's write lock.

Exit 0 when the session loads afterwards; 2 when it is still damaged (the error says which file
and what to do).

Options:
  --root DIR   the root (default: the current directory)
  --json       print what was done and the outcome as JSON
  -h, --help   show this help`;

/**
 * `dagent-sessions repair ID [--root DIR] [--json]`.
 * @example await repairCommand(['feature--f1--dev', '--root', '/repo'], processIO)
 */
export const repairCommand: CliCommand = defineCommand(
  {
    name: 'repair',
    usage: USAGE,
    positionals: ['ID'],
    options: { root: { type: 'string' }, json: { type: 'boolean' } },
  },
  async ({ values, positionals: [id = ''] }, io) => {
    assertSessionId(id);
    const store = await JsonFileSessionStore.open({
      root: rootOf(values.root),
      description: 'dagent-sessions repair',
    });
    try {
      const dir = store.session(id);
      const done = await dir.repair();
      let outcome:
        { ok: true; archived: number; live: number } | { ok: false; code: string; message: string };
      try {
        const loaded = await dir.load();
        outcome = { ok: true, archived: (await dir.readArchive()).length, live: loaded.messages.length };
      } catch (error) {
        const e = error as { code?: unknown; message?: unknown };
        outcome = { ok: false, code: String(e.code), message: String(e.message) };
      } finally {
        await dir.close();
      }
      if (values.json) io.out(JSON.stringify({ sessionId: id, done, ...outcome }, null, 2));
      else {
        for (const line of done) io.out(`- ${line}`);
        if (done.length === 0) io.out('Nothing to rebuild.');
        if (outcome.ok)
          io.out(`${id} loads: ${outcome.archived} archived and ${outcome.live} live messages.`);
        else io.err(`${id} is still damaged: ${outcome.message} (${outcome.code})`);
      }
      return outcome.ok ? 0 : 2;
    } finally {
      await store.close();
    }
  },
);
