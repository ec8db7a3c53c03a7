/**
 * @internal The runtime's calls that read one loaded session: its messages, history, checkpoint
 * (and older versions), context, description and size. What they return is the caller's: frozen
 * messages are shared, everything else is a copy.
 */
import { requestTokensOf, thresholdOf, type SessionMachineContext } from '../../machines/session.machine.js';
import { SessionError } from '../core/errors.js';
import type { SessionStore } from '../store/contract.js';
import { historyOf, type HistoryQuery } from './history.js';
import { checkMethodOptions } from './method-options.js';
import type { LoadedSessionRef } from './session-access.js';
import type { SessionRuntime, SizeEstimate } from './types.js';

/** @internal What these reads need of the runtime. */
export interface SessionReadDeps {
  loadedDir(id: string): Promise<LoadedSessionRef>;
  store: SessionStore;
}

/** @internal The reads, bound to the runtime's internals. */
export function sessionReads(
  deps: SessionReadDeps,
): Pick<
  SessionRuntime,
  | 'getMessages'
  | 'getHistory'
  | 'getCheckpoint'
  | 'getCheckpointVersions'
  | 'getContext'
  | 'getAgentDescription'
  | 'estimateSize'
> {
  const { loadedDir, store } = deps;
  return {
    async getMessages(id) {
      const { dir } = await loadedDir(id);
      return [...dir.messages]; // deep-frozen (session-handle.ts): shared, not copied
    },

    async getHistory(id: string, query?: HistoryQuery) {
      const { dir } = await loadedDir(id);
      return historyOf(dir, query, id);
    },

    async getCheckpoint(id: string, checkpointOptions?: { version?: number }) {
      const { dir } = await loadedDir(id);
      checkMethodOptions('getCheckpoint', checkpointOptions);
      const version = checkpointOptions?.version;
      if (version === undefined || version === dir.checkpoint?.version)
        return dir.checkpoint ? structuredClone(dir.checkpoint) : null;
      if (!Number.isInteger(version) || version < 0) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          `getCheckpoint: version must be an integer >= 0, got ${String(version)}`,
        );
      }
      return store.readCheckpoint(id, version);
    },

    async getCheckpointVersions(id: string) {
      await loadedDir(id);
      return store.checkpointVersions(id);
    },

    async getContext(id) {
      const { dir } = await loadedDir(id);
      return structuredClone(dir.context);
    },

    async getAgentDescription(id) {
      const { dir } = await loadedDir(id);
      return structuredClone(dir.agentDescription);
    },

    async estimateSize(id) {
      const { ref, limits } = await loadedDir(id);
      const c = ref.getSnapshot().context;
      return sizeEstimateOf({ ...c, limits });
    },
  };
}

/** @internal What a size estimate is made of: the parts' and live messages' counts, and the limits. */
export type EstimateParts = Pick<
  SessionMachineContext,
  | 'descriptionTokens'
  | 'contextTokens'
  | 'checkpointTokens'
  | 'liveTokens'
  | 'liveCount'
  | 'limits'
  | 'correction'
>;

/**
 * @internal `estimateSize`'s answer from the counts (in-process from the session actor's figures, on
 * Restate from the object's head): one rule for both.
 */
export function sizeEstimateOf(c: EstimateParts): SizeEstimate {
  const total = requestTokensOf(c);
  const threshold = thresholdOf(c.limits);
  return {
    total,
    breakdown: {
      agentDescription: c.descriptionTokens,
      context: c.contextTokens,
      checkpoint: c.checkpointTokens,
      messages: c.liveTokens,
      replyReserve: c.limits.replyReserveTokens,
    },
    limit: c.limits.maxTokens,
    threshold,
    needsCompaction: total >= threshold,
    liveMessages: c.liveCount,
  };
}
