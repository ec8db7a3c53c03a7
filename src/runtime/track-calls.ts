/**
 * @internal Tracking of a runtime's asynchronous calls: close() refuses new calls and lets the
 * calls already made finish; a session in use by a call keeps its actor (a lease); and a Node
 * system error never leaves a call raw: it becomes `IO_ERROR` with its errno in `details`.
 */
import { asIoError } from '../core/errors.js';
import type { SessionRuntime } from './types.js';

/** @internal The asynchronous calls of a runtime. */
export const TRACKED = [
  'createSession',
  'getSession',
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

/** @internal What tracking needs of the runtime. */
export interface TrackingHooks {
  isClosed(): boolean;
  closedError(): Error;
  /** Marks a session in use until the returned function is called. */
  lease(sessionId: string): () => void;
}

/**
 * @internal Wraps the asynchronous methods of `runtime` in place: once `isClosed()`, a call is
 * refused with `closedError()`; `settled()` resolves when every call made so far has ended.
 */
export function trackCalls(runtime: SessionRuntime, hooks: TrackingHooks): { settled(): Promise<void> } {
  const operations = new Set<Promise<unknown>>();
  for (const name of TRACKED) {
    const original = runtime[name] as (...args: unknown[]) => Promise<unknown>;
    (runtime as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (hooks.isClosed()) return Promise.reject(hooks.closedError());
      const id = args[0];
      const release = SESSION_CALLS.has(name) && typeof id === 'string' ? hooks.lease(id) : null;
      const where = typeof id === 'string' ? `${name}(${id.slice(0, 200)})` : name;
      let operation: Promise<unknown>;
      try {
        operation = original(...args);
      } catch (error) {
        operation = Promise.reject(error);
      }
      operation = operation.then(
        (value) => {
          release?.();
          return value;
        },
        (error: unknown) => {
          release?.();
          throw asIoError(error, 'runtime', where);
        },
      );
      operations.add(operation);
      const forget = () => operations.delete(operation);
      operation.then(forget, forget);
      return operation;
    };
  }
  return {
    async settled() {
      await Promise.allSettled([...operations]);
    },
  };
}
