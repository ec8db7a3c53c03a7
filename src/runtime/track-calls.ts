/**
 * @internal Tracking of a runtime's asynchronous calls, as a wrapper made once: close() refuses
 * new calls and lets the calls already made finish; a session in use by a call keeps its actor (a
 * lease: the supervisor asks the registry before it stops one); and a Node system error never leaves
 * a call raw: it becomes `IO_ERROR` with its errno in `details`. The registry counts the calls and
 * the leases (session-registry.ts).
 */
import { asIoError } from '../core/errors.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './types.js';

/** @internal The asynchronous calls of a runtime. */
export const TRACKED = [
  'createSession',
  'getSession',
  'reopenSession',
  'listSessions',
  'addMessage',
  'getMessages',
  'getHistory',
  'getCheckpoint',
  'getCheckpointVersions',
  'getContext',
  'getAgentDescription',
  'estimateSize',
  'compact',
  'cancelCompaction',
  'setContext',
  'setAgentDescription',
  'buildRequest',
  'previewRequest',
  'send',
  'calibrate',
  'clearMessages',
  'reset',
  'exportSession',
  'archiveSession',
  'recordChecks',
  'editCheckpoint',
  'recordDecision',
] as const satisfies readonly (keyof SessionRuntime)[];

/** @internal The calls whose first argument is a session id (all but createSession and listSessions). */
const SESSION_CALLS: ReadonlySet<string> = new Set(
  TRACKED.filter((name) => name !== 'createSession' && name !== 'listSessions'),
);

/**
 * @internal A new object with the methods of `api`, its asynchronous calls wrapped once: each
 * starts by acquiring the registry (refused with the closed error unless the runtime is open;
 * a call on a session leases it) and releases it when it ends, and a Node system error it ends
 * with becomes `IO_ERROR`. `api` itself is left as it is: its methods are the untracked ones.
 */
export function trackCalls<T extends SessionRuntime>(api: T, registry: Pick<SessionRegistry, 'acquire'>): T {
  const tracked: Record<string, unknown> = {};
  for (const name of TRACKED) {
    const original = api[name] as (...args: unknown[]) => Promise<unknown>;
    tracked[name] = (...args: unknown[]) => {
      const id = args[0];
      let release: () => void;
      try {
        release = registry.acquire(SESSION_CALLS.has(name) && typeof id === 'string' ? id : undefined);
      } catch (error) {
        return Promise.reject(error);
      }
      let operation: Promise<unknown>;
      try {
        operation = original.apply(api, args);
      } catch (error) {
        operation = Promise.reject(error);
      }
      return operation.then(
        (value) => {
          release();
          return value;
        },
        (error: unknown) => {
          release();
          // Named here, not per call: a call that succeeds builds no string for its errors.
          throw asIoError(error, 'runtime', typeof id === 'string' ? `${name}(${id.slice(0, 200)})` : name);
        },
      );
    };
  }
  return { ...api, ...tracked };
}
