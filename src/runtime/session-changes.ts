/**
 * @internal The runtime's calls that change a session other than by appending: context and
 * description, clear, reset, checks, archive; and export, which gathers everything.
 */
import type { AfterCommitWrites } from './after-commit-writes.js';
import type { ClearReply, SessionActorRef } from '../../machines/session.machine.js';
import type { CheckpointChange } from '../core/checkpoint-change.js';
import type { Limits, SessionContext } from '../core/types.js';
import type { SessionHandle } from './session-handle.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { validateClearOptions } from './checkpoint-edits.js';
import type { SessionEvent } from './events.js';
import { countPart } from './fixed-counts.js';
import { assertFixedPartsFit } from './fixed-parts-check.js';
import { toSessionError } from './session-info.js';
import type { SessionInfo, SessionRuntime } from './types.js';
import { validateAgentDescription, validateChecks, validatePlainObject } from './validate-arguments.js';

type Loaded = { ref: SessionActorRef; dir: SessionHandle; limits: Limits };

/** @internal What these calls need of the runtime. */
export interface SessionChangeDeps {
  loadedDir(id: string): Promise<Loaded>;
  writableDir(id: string): Promise<Loaded>;
  send<T extends { ok: boolean; error?: unknown }>(
    id: string,
    build: (reply: (value: T) => void) => Parameters<SessionActorRef['send']>[0],
  ): Promise<T>;
  assertOpen(): void;
  assertWritable(): void;
  estimator: TokenEstimator;
  /** The size limit of a context or description, in UTF-8 bytes of its text: the runtime's `maxMessageBytes`. */
  maxMessageBytes: number;
  at(): string;
  publish(event: SessionEvent): void;
  getSession(id: string): Promise<SessionInfo>;
  getHistory(id: string): ReturnType<SessionRuntime['getHistory']>;
  /** The figures a commit writes after it (not waited for by its caller) land before a record written here. */
  afterCommits: Pick<AfterCommitWrites, 'settled'>;
}

/** @internal The calls, bound to the runtime's internals. */
export function sessionChanges(
  deps: SessionChangeDeps,
): Pick<
  SessionRuntime,
  | 'setContext'
  | 'setAgentDescription'
  | 'clearMessages'
  | 'reset'
  | 'exportSession'
  | 'archiveSession'
  | 'recordChecks'
> {
  const { loadedDir, writableDir, send, assertOpen, assertWritable, estimator, at, publish } = deps;

  async function clearOrReset(sessionId: string, mode: 'clear' | 'reset', change?: CheckpointChange) {
    assertWritable();
    const reply = await send<ClearReply>(sessionId, (r) => ({
      type: 'CLEAR',
      mode,
      ...(change === undefined ? {} : { change }),
      reply: r,
    }));
    if (!reply.ok) throw toSessionError(reply.error, sessionId);
    return {
      archivedMessages: reply.result.archivedMessages,
      segment: reply.result.segment,
      checkpointVersion: reply.result.checkpointVersion,
    };
  }

  return {
    async setContext(id, context) {
      assertOpen();
      assertWritable();
      const valid = validatePlainObject(context, 'context', deps.maxMessageBytes) as SessionContext;
      const { ref, dir, limits } = await writableDir(id);
      const count = countPart(estimator, 'context', valid);
      const c = ref.getSnapshot().context;
      assertFixedPartsFit({
        where: `setContext(${id})`,
        part: 'context',
        descriptionTokens: c.descriptionTokens,
        contextTokens: count.tokens,
        before: c.descriptionTokens + c.contextTokens,
        limits,
        correction: c.correction,
      });
      await dir.writeContext(valid);
      await dir.writeCounts({ context: count }).catch(() => undefined); // a hint: best effort
      ref.send({ type: 'FIXED.CHANGED', contextTokens: count.tokens });
      publish({ type: 'session.context.changed', sessionId: id, at: at(), what: 'context' });
    },

    async setAgentDescription(id, description) {
      assertOpen();
      assertWritable();
      const valid = validateAgentDescription(description, 'agentDescription', deps.maxMessageBytes);
      const { ref, dir, limits } = await writableDir(id);
      const count = countPart(estimator, 'description', valid);
      const c = ref.getSnapshot().context;
      assertFixedPartsFit({
        where: `setAgentDescription(${id})`,
        part: 'agentDescription',
        descriptionTokens: count.tokens,
        contextTokens: c.contextTokens,
        before: c.descriptionTokens + c.contextTokens,
        limits,
        correction: c.correction,
      });
      await dir.writeAgentDescription(valid);
      await dir.writeCounts({ description: count }).catch(() => undefined); // a hint: best effort
      ref.send({ type: 'FIXED.CHANGED', descriptionTokens: count.tokens });
      publish({ type: 'session.context.changed', sessionId: id, at: at(), what: 'agentDescription' });
    },

    async clearMessages(id, options) {
      const { iteration, decisions } = validateClearOptions(options);
      const change: CheckpointChange | undefined =
        iteration === undefined && decisions === undefined
          ? undefined
          : { ...(iteration ? { iteration } : {}), ...(decisions ? { decisions } : {}), at: at() };
      return clearOrReset(id, 'clear', change);
    },

    async reset(id) {
      return clearOrReset(id, 'reset');
    },

    async exportSession(id) {
      const { dir } = await loadedDir(id);
      return {
        exportedAt: at(),
        session: await deps.getSession(id),
        checkpoint: dir.checkpoint ? structuredClone(dir.checkpoint) : null,
        context: structuredClone(dir.context),
        agentDescription: structuredClone(dir.agentDescription),
        history: await deps.getHistory(id),
      };
    },

    async archiveSession(id) {
      assertWritable();
      const { dir } = await loadedDir(id);
      await deps.afterCommits.settled(id);
      const record = dir.record!;
      if (record.status !== 'archived') {
        await dir.writeRecord({ ...record, status: 'archived', updatedAt: at() });
        publish({ type: 'session.archived', sessionId: id, at: at() });
      }
      return deps.getSession(id);
    },

    async recordChecks(id, checks) {
      assertWritable();
      const valid = validateChecks(checks);
      const { ref, dir } = await writableDir(id);
      const checkpoint = await dir.recordChecks(valid, at());
      const count = countPart(estimator, 'checkpoint', checkpoint);
      await dir.writeCounts({ checkpoint: count }).catch(() => undefined); // a hint: best effort
      ref.send({ type: 'FIXED.CHANGED', checkpointTokens: count.tokens });
      publish({ type: 'session.checks.recorded', sessionId: id, at: at(), checks: structuredClone(valid) });
      return structuredClone(checkpoint);
    },
  };
}
