/**
 * @internal How CLI commands open a root: read-only commands without the write lock (they work
 * while a host holds it), write commands with it, and a refusal that says who holds the lock and
 * what to do.
 */
import type { InspectionEvent } from 'xstate';
import path from 'node:path';
import { OfflineCompactor } from '../compaction/offline-compactor.js';
import { SessionError, isSessionError } from '../core/errors.js';
import type { Limits } from '../core/types.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionRuntime } from '../runtime/types.js';
import { createTokenEstimator } from '../tokens/token-estimator.js';
import { rootDirectory, rootOf } from './root-dir.js';

export { rootOf } from './root-dir.js';
import { readOnlyRestateStore, restateTarget } from './restate-target.js';

/** @internal The commands that read only, named in lock refusals. */
export const READ_ONLY_COMMANDS = ['list', 'show', 'preview', 'export', 'inspect'] as const;

/** @internal Options of {@link openRuntime}. */
export interface OpenRuntimeOptions {
  /** `--root`; default the current directory. */
  root: string | undefined;
  /** The command, for messages. */
  command: string;
  /** Take the write lock (replay, import, compact) or not (list, show, preview, export, inspect). */
  write: boolean;
  /** Use the offline compactor even when ANTHROPIC_API_KEY is set. */
  offline?: boolean;
  limits?: Partial<Limits>;
  /** XState inspection observer (`inspect --stately`). */
  inspect?: (event: InspectionEvent) => void;
}

/** @internal Who holds a lock, from a `ROOT_LOCKED` error's details. */
function holderText(details: Record<string, unknown>): string {
  const h = details.holder as
    { pid?: unknown; hostname?: unknown; acquiredAt?: unknown; description?: unknown } | undefined;
  if (!h || typeof h.pid !== 'number') return 'another process';
  const what = typeof h.description === 'string' ? ` (${h.description})` : '';
  const since = typeof h.acquiredAt === 'string' ? `, since ${h.acquiredAt}` : '';
  return `process ${h.pid} on ${String(h.hostname)}${what}${since}`;
}

/**
 * @internal Opens the runtime of `--root` for a command.
 * @throws SessionError `INVALID_ARGUMENT` when the root is not a directory; `ROOT_LOCKED` (origin
 *   `cli`) for a write command while another runtime holds the lock, naming it and what to do.
 */
export async function openRuntime(options: OpenRuntimeOptions): Promise<SessionRuntime> {
  const restate = restateTarget();
  if (restate !== undefined) return openRestateRuntime(restate, options);
  const root = await rootDirectory(options.root);
  const estimator = createTokenEstimator();
  try {
    return await createSessionRuntime({
      root,
      readOnly: !options.write,
      estimator,
      ...(options.offline ? { compactor: new OfflineCompactor({ estimator }) } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
  } catch (error) {
    if (!isSessionError(error, 'ROOT_LOCKED')) throw error;
    const lock = path.join(root, '.dagent', 'lock');
    throw new SessionError(
      'ROOT_LOCKED',
      'cli',
      `${options.command} needs to write to ${root}, which is open for writing by ${holderText(error.details)}. ` +
        `Wait until it finishes or stop it, then run this again; ${READ_ONLY_COMMANDS.join(', ')} work meanwhile. ` +
        `If that process is gone, delete ${lock}`,
      { cause: error, details: error.details },
    );
  }
}

/** @internal A read-only runtime on the sessions of a Restate server (`--restate URL`). */
async function openRestateRuntime(ingressUrl: string, options: OpenRuntimeOptions): Promise<SessionRuntime> {
  if (options.write) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `${options.command} writes; --restate URL is for reading commands`,
    );
  }
  return createSessionRuntime({
    root: ingressUrl,
    store: await readOnlyRestateStore(ingressUrl),
    readOnly: true,
    estimator: createTokenEstimator(),
    ...(options.limits ? { limits: options.limits } : {}),
  });
}

/**
 * @internal Runs `work` with the runtime of a command and closes it afterwards, also when
 * `work` throws. `SESSION_NOT_FOUND` is reworded for the command line.
 */
export async function withRuntime<T>(
  options: OpenRuntimeOptions,
  work: (runtime: SessionRuntime) => Promise<T>,
): Promise<T> {
  const runtime = await openRuntime(options);
  try {
    return await work(runtime);
  } catch (error) {
    if (isSessionError(error, 'SESSION_NOT_FOUND') && typeof error.details.sessionId === 'string') {
      const root = rootOf(options.root);
      throw new SessionError(
        'SESSION_NOT_FOUND',
        'cli',
        `no session ${JSON.stringify(error.details.sessionId)} under ${root}; ` +
          `"dagent-sessions list --root ${root}" lists the sessions there`,
        {
          cause: error,
          details: error.details,
        },
      );
    }
    throw error;
  } finally {
    await runtime.close();
  }
}
