/**
 * @internal Tracking of a runtime's asynchronous calls, so that close() refuses new calls and lets
 * the calls already made finish.
 */
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
  'getContext',
  'getAgentDescription',
  'estimateSize',
  'compact',
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
] as const satisfies readonly (keyof SessionRuntime)[];

/**
 * @internal Wraps the asynchronous methods of `runtime` in place: once `isClosed()`, a call is
 * refused with `closedError()`; `settled()` resolves when every call made so far has ended.
 */
export function trackCalls(
  runtime: SessionRuntime,
  isClosed: () => boolean,
  closedError: () => Error,
): { settled(): Promise<void> } {
  const operations = new Set<Promise<unknown>>();
  for (const name of TRACKED) {
    const original = runtime[name] as (...args: unknown[]) => Promise<unknown>;
    (runtime as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (isClosed()) return Promise.reject(closedError());
      const operation = original(...args);
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
