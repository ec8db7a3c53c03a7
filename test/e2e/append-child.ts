/**
 * A process that appends through the real runtime on command, for the fault tests (run under the
 * LD_PRELOAD fault shim, or under `ulimit -f`). It reads one JSON command per line on stdin and
 * answers one JSON line per event on stdout, written with write(2) before it goes on (see say()):
 *
 * - `{"op":"open","root":R,"foldMinBytes":N,"syncAppends"?:S}` opens a runtime on R (with the option
 *   `syncAppends` when given) and the session (creating it): `{"opened":id}`, or `{"openFailed":error}`;
 * - `{"op":"append","from":i,"count":n,"concurrent":bool}` adds the messages of indexes i..i+n-1
 *   (see {@link contentOf}): `{"ack":i,"seq":s}` once one resolved, `{"fail":i,"error":e}` once one
 *   rejected, then `{"appended":n}`;
 * - `{"op":"close"}` closes the runtime: `{"closed":true}`; `{"op":"exit"}` ends the process.
 *
 * Run: `node --import tsx test/e2e/append-child.ts`.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { isSessionError } from '../../src/core/errors.js';
import { sessionIdOf } from '../../src/core/ids.js';
import type { SessionKey } from '../../src/core/types.js';
import type { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { say } from './say.js';

/** The session the fault tests append to. */
export const FAULT_KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'faults' };

/** Indexes from here on have messages of about 4 KB, to fill a disk in fewer appends. */
export const LARGE_FROM = 1_000_000;

/** The text of the message of an index: what the parent expects to read back, verbatim. */
export function contentOf(index: number): string {
  const repeat = index >= LARGE_FROM ? 180 + (index % 7) : 1 + (index % 9) * 4;
  return `message ${index}: ${'ünïcode 🚀 payload '.repeat(repeat)}`;
}

/** What the child reports about a rejected call. */
export interface ReportedError {
  code: string;
  message: string;
  retryable: boolean;
  errno: string | null;
  outcome: string | null;
  raw: string | null;
}

function reported(error: unknown): ReportedError {
  if (isSessionError(error)) {
    return {
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      errno: typeof error.details.errno === 'string' ? error.details.errno : null,
      outcome: typeof error.details.outcome === 'string' ? error.details.outcome : null,
      raw: null,
    };
  }
  const e = error as NodeJS.ErrnoException;
  return {
    code: 'NOT_A_SESSION_ERROR',
    message: String(e?.message ?? e),
    retryable: false,
    errno: e?.code ?? null,
    outcome: null,
    raw: e?.code ?? 'thrown',
  };
}

/** One JSON line on stdout (see say.ts). */
function report(value: unknown): void {
  say(JSON.stringify(value));
}

interface Command {
  op: 'open' | 'append' | 'close' | 'exit';
  root?: string;
  foldMinBytes?: number;
  syncAppends?: 'thread-pool' | 'calling-thread';
  from?: number;
  count?: number;
  concurrent?: boolean;
}

async function main(): Promise<void> {
  let runtime: SessionRuntime | null = null;
  let id = '';
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const command = JSON.parse(line) as Command;
    if (command.op === 'open') {
      try {
        runtime = await createSessionRuntime({
          root: command.root!,
          foldMinBytes: command.foldMinBytes ?? 2048,
          ...(command.syncAppends === undefined ? {} : { syncAppends: command.syncAppends }),
          limits: { maxTokens: 50_000_000 }, // no compaction: these tests are about the append path
        });
        id = sessionIdOf(FAULT_KEY);
        await runtime.getSession(id).catch(async (error: unknown) => {
          if (!isSessionError(error, 'SESSION_NOT_FOUND')) throw error;
          await runtime!.createSession(FAULT_KEY);
        });
        report({ opened: id });
      } catch (error) {
        report({ openFailed: reported(error) });
      }
    } else if (command.op === 'append') {
      const rt = runtime!;
      const indexes = Array.from({ length: command.count! }, (_, k) => command.from! + k);
      const one = async (index: number) => {
        try {
          const message = await rt.addMessage(id, {
            role: index % 2 === 0 ? 'user' : 'assistant',
            content: contentOf(index),
          });
          report({ ack: index, seq: message.seq });
        } catch (error) {
          report({ fail: index, error: reported(error) });
        }
      };
      if (command.concurrent) await Promise.all(indexes.map(one));
      else for (const index of indexes) await one(index);
      // Folds run in the background: the batch ends once they did, inside the fault's window.
      await (rt.store as Partial<JsonFileSessionStore>).settled?.();
      report({ appended: indexes.length });
    } else if (command.op === 'close') {
      await runtime?.close().catch(() => undefined);
      runtime = null;
      report({ closed: true });
    } else {
      process.exit(0);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `append-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
