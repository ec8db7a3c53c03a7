/**
 * @internal `--restate URL` of the reading commands (list, show, preview, export): they read the
 * sessions of a Restate server through its ingress instead of a root. `main` takes the option off
 * the arguments and runs the command inside {@link withRestateTarget}; `openRuntime` asks
 * {@link restateTarget}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SessionError } from '../core/errors.js';
import type { SessionStore } from '../store/contract.js';

const target = new AsyncLocalStorage<string>();

/** @internal The commands that take `--restate URL`. */
export const RESTATE_READERS = ['list', 'show', 'preview', 'export'] as const;

/** @internal Runs `work` with `url` as the Restate ingress that commands read from. */
export function withRestateTarget<T>(url: string, work: () => T): T {
  return target.run(url, work);
}

/** @internal The ingress URL given with `--restate`, if any. */
export function restateTarget(): string | undefined {
  return target.getStore();
}

/**
 * @internal Takes `--restate URL` (or `--restate=URL`) off `args`: the URL (null when absent) and
 * the other arguments; `missing` when the flag has no value.
 */
export function takeRestateOption(args: readonly string[]): {
  url: string | null | 'missing';
  rest: string[];
} {
  const rest: string[] = [];
  let url: string | null | 'missing' = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--restate') {
      const value = args[i + 1];
      url = value === undefined || value.startsWith('-') ? 'missing' : value;
      if (url !== 'missing') i++;
    } else if (arg.startsWith('--restate=')) url = arg.slice('--restate='.length) || 'missing';
    else rest.push(arg);
  }
  return { url, rest };
}

/**
 * @internal A read-only store on the sessions of the Restate server at `ingressUrl`, saying what to
 * install when the Restate client is missing (it is an optional peer).
 */
export async function readOnlyRestateStore(ingressUrl: string): Promise<SessionStore> {
  try {
    const { createRestateSessionStore } = await import('../restate/restate-session-store.js');
    return createRestateSessionStore({ ingressUrl, readOnly: true });
  } catch (error) {
    throw restatePackageMissing(
      error,
      '--restate: the Restate client is not installed; run npm install @restatedev/restate-sdk-clients ' +
        '@restatedev/restate-sdk',
    );
  }
}

/**
 * @internal What to throw when importing the Restate entry failed: `SESSION_UNAVAILABLE` with
 * `advice` when one of its optional peers (`@restatedev/...`) is not installed, else the error.
 */
export function restatePackageMissing(error: unknown, advice: string): unknown {
  const e = error as { code?: unknown; message?: unknown };
  if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('@restatedev/')) {
    return new SessionError('SESSION_UNAVAILABLE', 'cli', advice, { cause: error });
  }
  return error;
}
