/**
 * @internal The runtime's calls that change a session other than by appending: context and
 * description, clear, reset, checks, archive; and export, which gathers everything.
 */
import type { AfterCommitWrites } from './after-commit-writes.js';
import type { ClearReply, SessionActorRef } from '../../machines/session.machine.js';
import type { CheckpointChange } from '../core/checkpoint-change.js';
import { createOneAtATime } from '../core/one-at-a-time.js';
import type { AgentDescription, Limits, SessionContext } from '../core/types.js';
import type { SessionHandle } from './session-handle.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { validateClearOptions } from './checkpoint-edits.js';
import type { SessionEvent } from './events.js';
import { countOfText, countPart, textOf } from './fixed-counts.js';
import { countFixedPartsFit } from './fixed-parts-check.js';
import { toSessionError } from './session-info.js';
import type { SessionInfo, SessionRuntime } from './types.js';
import { validateAgentDescription, validateChecks, validatePlainObject } from './validate-arguments.js';

type Loaded = { ref: SessionActorRef; dir: SessionHandle; limits: Limits };

/** A new context or agent description, validated. */
type FixedPart =
  { part: 'context'; value: SessionContext } | { part: 'agentDescription'; value: AgentDescription };

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

  // A description or context is checked against the other part as it stands when written: the
  // writes of both go one at a time (rare calls), so that two at once cannot each pass against the
  // pair from before either and together leave no room for a conversation.
  const oneFixedWrite = createOneAtATime();

  /** Counts, checks (fixed-parts-check.ts) and writes a session's new context or description. */
  function setFixedPart(id: string, change: FixedPart): Promise<void> {
    return oneFixedWrite(async () => {
      const { ref, dir, limits } = await writableDir(id);
      const isContext = change.part === 'context';
      const text = textOf(isContext ? 'context' : 'description', change.value);
      const c = ref.getSnapshot().context;
      // A long text is counted off the main thread, or refused uncounted when too long by far.
      const tokens = await countFixedPartsFit(estimator, {
        where: `${isContext ? 'setContext' : 'setAgentDescription'}(${id})`,
        part: change.part,
        description: isContext ? c.descriptionTokens : text,
        context: isContext ? text : c.contextTokens,
        before: c.descriptionTokens + c.contextTokens,
        limits,
        correction: c.correction,
      });
      const count = countOfText(estimator, text, isContext ? tokens.contextTokens : tokens.descriptionTokens);
      if (change.part === 'context') {
        await dir.writeContext(change.value);
        await dir.writeCounts({ context: count }).catch(() => undefined); // a hint: best effort
        ref.send({ type: 'FIXED.CHANGED', contextTokens: count.tokens });
      } else {
        await dir.writeAgentDescription(change.value);
        await dir.writeCounts({ description: count }).catch(() => undefined); // a hint: best effort
        ref.send({ type: 'FIXED.CHANGED', descriptionTokens: count.tokens });
      }
    });
  }

  return {
    async setContext(id, context) {
      assertOpen();
      assertWritable();
      const valid = validatePlainObject(context, 'context', deps.maxMessageBytes) as SessionContext;
      await setFixedPart(id, { part: 'context', value: valid });
      publish({ type: 'session.context.changed', sessionId: id, at: at(), what: 'context' });
    },

    async setAgentDescription(id, description) {
      assertOpen();
      assertWritable();
      const valid = validateAgentDescription(description, 'agentDescription', deps.maxMessageBytes);
      await setFixedPart(id, { part: 'agentDescription', value: valid });
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
