/**
 * @internal The session actor's effects, as the runtime provides them: load from, persist to and
 * close the session's directory, and run a compaction.
 */
import { performance } from 'node:perf_hooks';
import { fromPromise } from 'xstate';
import {
  createWriter,
  sessionMachine,
  type CommitInput,
  type CompactInput,
  type CompactOutput,
  type LoadOutput,
  type PersistInput,
  type PersistOutput,
  type SummariseOutput,
} from '../../machines/session.machine.js';
import type { Compactor } from '../compaction/compactor.js';
import { runClear, type ClearInput, type ClearOutput } from '../compaction/run-clear.js';
import { commitCompaction, summariseCompaction } from '../compaction/run-compaction.js';
import { SessionError } from '../core/errors.js';
import { countedTokens } from '../core/request-size.js';
import type { Checkpoint, Limits, SessionKey } from '../core/types.js';
import type { SessionStore } from '../store/contract.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { AfterCommitWrites } from './after-commit-writes.js';
import type { SessionEvent } from './events.js';
import { checkpointCount, fixedTokensOf } from './fixed-counts.js';
import { SessionHandle } from './session-handle.js';
import type { LoadedSession, SessionRegistry } from './session-registry.js';
import { deepFreeze } from './validate.js';

/**
 * @internal Resolves once the session's actor holds every acknowledged append in its figures, with
 * its exact count: what a read, an archive or a close waits for.
 */
export async function countsSettled(entry: LoadedSession | undefined): Promise<void> {
  for (;;) {
    if (entry?.booking !== undefined) await booked(entry);
    else if (entry?.counting !== undefined && entry.counting.size > 0) {
      entry.countHere?.(); // short ones counted on this thread, idle while it waits
      await Promise.all(entry.counting);
    } else return;
  }
}

/**
 * @internal Resolves once the session's actor has taken the batch whose callers were answered
 * (`booking`). The actor is handed it now rather than at the end of the event loop's turn: the
 * one waiting is a caller that resumed, or a late count, and the work queued before that turn's
 * end (other I/O callbacks, earlier immediates) can run after, in the next write's fdatasync.
 */
export async function booked(entry: LoadedSession): Promise<void> {
  entry.takeBooking?.();
  await entry.booking;
}

/**
 * @internal The caller-first acknowledgement of durable batches. The callers of a batch are answered
 * as soon as it is durable (`PersistInput.acknowledge`), and the actor's bookkeeping (its figures,
 * `message.appended`, the next batch) follows after the turn of the event loop in which they
 * resume, or as soon as one of them waits for it (a read, a request to the actor: {@link booked}):
 * a caller waits for the disk, not for the actor. Until the actor has taken the batch, the
 * session's `booking` is set, which reads and late counts wait for, so that a caller sees its
 * message in every figure whatever it does next. The writer's `answered` ends it.
 */
function createBookings(registry: Pick<SessionRegistry, 'entry'>) {
  const open = new WeakMap<PersistInput, () => void>();
  return {
    /**
     * Answers the batch's callers, marks the session as booking until the actor took it, and
     * resolves once they have resumed (the turn's end) or one of them waits for the actor.
     */
    acknowledge(input: PersistInput, counted: PersistOutput['counted']): Promise<void> {
      const entry = registry.entry(input.sessionId);
      let done!: () => void;
      const booking = new Promise<void>((resolve) => (done = resolve));
      let take!: () => void;
      const taken = new Promise<void>((resolve) => (take = resolve));
      setImmediate(take);
      if (entry !== undefined) {
        entry.booking = booking;
        entry.takeBooking = take;
      }
      open.set(input, () => {
        if (entry?.booking === booking) {
          delete entry.booking;
          delete entry.takeBooking;
        }
        done();
      });
      input.acknowledge!(counted);
      return taken;
    },
    /** The writer's `answered`: the actor took the batch (or its writer was stopped). */
    answered(input: PersistInput): void {
      open.get(input)?.();
      open.delete(input);
    },
  };
}

/**
 * @internal The exact counts of a durable batch's uncounted messages that were taken while it was
 * written (the counting worker answered meanwhile), handed to the store (written with the next
 * append): the actor's figures and the callers' replies get them with the acknowledgement. Should
 * the store refuse them (closed meanwhile), those messages keep their bounds, reported as theirs:
 * as with a late count the store refuses, the figures hold the bounds and a load counts again.
 */
async function countedMeanwhile(dir: SessionHandle, input: PersistInput): Promise<PersistOutput['counted']> {
  const counted: PersistOutput['counted'] = [];
  if (input.exactOf === undefined) return counted;
  for (const seq of input.uncounted ?? []) {
    const tokens = input.exactOf(seq);
    if (tokens !== undefined) counted.push({ seq, tokens });
  }
  if (counted.length === 0) return counted;
  try {
    await dir.recordCounts(counted);
    return counted;
  } catch {
    const bounds = new Map(input.messages.map((m) => [m.seq, m.tokens]));
    return counted.map((c) => ({ seq: c.seq, tokens: bounds.get(c.seq) ?? c.tokens }));
  }
}

/** @internal What the effects share with the runtime. */
export interface EffectDeps {
  store: SessionStore;
  /** Owner of the loaded sessions: `load` fills an entry, `close` empties it. */
  registry: Pick<SessionRegistry, 'entry' | 'load' | 'unload' | 'whileCommitting' | 'createdInDoubt'>;
  compactor: Compactor;
  estimator: TokenEstimator;
  now: () => Date;
  readOnly: boolean;
  limitsOf: (key: SessionKey) => Limits;
  publish: (event: SessionEvent) => void;
  writeRecord: (sessionId: string, dir: SessionHandle, requestTokens?: number) => Promise<void>;
  /** What follows a commit, not waited for by the caller (after-commit-writes.ts). */
  afterCommits: AfterCommitWrites;
  /** Sends the session's actor `WRITE.IN_DOUBT` with the error of its write in doubt. */
  tellInDoubt: (sessionId: string, error: unknown) => void;
}

/**
 * @internal The compactor, handed its input deep-frozen: the messages and checkpoint it reads are
 * the session's own, so a compactor that edits them (in place) would change history. Frozen, the
 * edit throws (the compaction fails and changes nothing) instead.
 */
export function withFrozenInput(compactor: Compactor): Compactor {
  return {
    get name() {
      return compactor.name;
    },
    get maxInputTokens() {
      return compactor.maxInputTokens;
    },
    compact: (input, options) => compactor.compact(deepFreeze(input), options),
  };
}

/** @internal The session machine with the runtime's effects. */
export function provideSessionEffects(deps: EffectDeps) {
  const { store, registry, estimator, now, readOnly, limitsOf, publish, writeRecord, afterCommits } = deps;
  const compactor = withFrozenInput(deps.compactor);
  const bookings = createBookings(registry);
  const at = () => now().toISOString();
  const dirOf = (sessionId: string): SessionHandle => {
    const entry = registry.entry(sessionId);
    if (!entry)
      throw new SessionError('SESSION_UNAVAILABLE', 'runtime', `session ${sessionId} is not loaded`);
    return entry.dir;
  };
  /**
   * Derivable figures and the new checkpoint's count, after a commit: best effort, and not waited
   * for by the caller (the next commit, clear, archive and close wait: `afterCommits`). Read when
   * they start. Two files, neither needed by the other, so side by side (one sync wait, not two).
   */
  const afterCommit = (sessionId: string, dir: SessionHandle, counted?: Checkpoint): void =>
    afterCommits.queue(sessionId, async () => {
      const checkpoint = dir.checkpoint;
      await Promise.all([
        writeRecord(sessionId, dir).catch(() => undefined),
        checkpoint
          ? dir
              .writeCounts({ checkpoint: checkpointCount(estimator, checkpoint, counted) })
              .catch(() => undefined)
          : undefined,
      ]);
    });
  /**
   * Counts the messages in `seqs` exactly and hands the counts to the store. A read-only store
   * takes none: the loaded messages hold them all the same (the handle sets them first), so that
   * a reader's figures and messages hold counts, not the bounds a crash left.
   */
  const recount = async (dir: SessionHandle, seqs: ReadonlySet<number>) => {
    const counts = dir.messages
      .filter((m) => seqs.has(m.seq))
      .map((m) => ({ seq: m.seq, tokens: estimator.estimateMessage(m) }));
    await dir.recordCounts(counts).catch((error: unknown) => {
      if (!readOnly) throw error;
    });
  };
  return sessionMachine.provide({
    actors: {
      load: fromPromise<LoadOutput, { sessionId: string }>(async ({ input }) => {
        const loaded = await store.load(input.sessionId);
        // A write in doubt, whichever call made it, fails the actor that holds this handle (not
        // one loaded after it: that one read the files).
        const dir: SessionHandle = new SessionHandle(store, loaded, (error) => {
          if (registry.entry(input.sessionId)?.dir === dir) deps.tellInDoubt(input.sessionId, error);
        });
        const limits = limitsOf(loaded.record.key);
        registry.load(input.sessionId, { dir, limits });
        // A creation in doubt (create-session.ts): every load holds it until a retried create or a reopen.
        const createdInDoubt = registry.createdInDoubt(input.sessionId);
        if (createdInDoubt !== undefined) {
          dir.holdInDoubt(createdInDoubt);
          deps.tellInDoubt(input.sessionId, createdInDoubt);
        }
        // Appended before their count was known and the count lost (a crash): counted again now.
        if ((loaded.uncounted?.length ?? 0) > 0) await recount(dir, new Set(loaded.uncounted));
        // Persisted counts when they match: a session loaded to be read loads no tokenizer.
        const fixed = await fixedTokensOf(estimator, loaded, loaded.counts);
        if (!readOnly && Object.keys(fixed.fresh).length > 0)
          await dir.writeCounts(fixed.fresh).catch(() => undefined); // hints: best effort
        return {
          liveTokens: countedTokens(dir.messages), // internal messages are never sent
          liveCount: loaded.messages.length,
          lastSeq: loaded.lastSeq,
          archivedThroughSeq: loaded.archivedThroughSeq,
          descriptionTokens: fixed.description,
          contextTokens: fixed.context,
          checkpointTokens: fixed.checkpoint,
          checkpointVersion: loaded.checkpoint?.version ?? 0,
        };
      }),
      // One writer per loaded session, sent one batch at a time; callers answered once durable.
      persist: createWriter(
        async (input) => {
          const uncounted =
            input.uncounted !== undefined && input.uncounted.length > 0 ? input.uncounted : undefined;
          const dir = dirOf(input.sessionId);
          await dir.appendMessages(input.messages, uncounted);
          const counted = await countedMeanwhile(dir, input);
          if (input.acknowledge === undefined) return { counted };
          await bookings.acknowledge(input, counted); // the callers resume first
          return { counted, acknowledged: true };
        },
        { answered: bookings.answered },
      ),
      // The cancellable part: the signal reaches the compactor; nothing is written.
      summarise: fromPromise<SummariseOutput, CompactInput>(async ({ input, signal }) => {
        // Its work (milliseconds of this thread) starts a turn later: a read or request made as the
        // batch that reached the threshold is answered goes first (read-before-summarise.test.ts).
        await new Promise(setImmediate);
        await countsSettled(registry.entry(input.sessionId)); // only exact counts are archived
        const dir = dirOf(input.sessionId);
        const summary = await summariseCompaction(
          {
            dir,
            compactor,
            estimator,
            now,
            elapsed: () => performance.now(),
            onProgress: (p) =>
              publish({ type: 'session.compaction.progress', sessionId: input.sessionId, at: at(), ...p }),
          },
          input,
          signal,
        );
        if (summary.commit === null) afterCommit(input.sessionId, dir);
        return summary;
      }),
      // The part that is never cancelled: one atomic commit.
      commit: fromPromise<CompactOutput, CommitInput>(async ({ input }) => {
        const dir = dirOf(input.sessionId);
        // Nobody changes it after the summary: frozen, the store keeps it and hands it back uncopied.
        deepFreeze(input.checkpoint);
        await afterCommits.settled(input.sessionId);
        // close() waits for a commit in flight: it is never cut in the middle.
        const output = await registry.whileCommitting(input.sessionId, commitCompaction(dir, input));
        afterCommit(input.sessionId, dir, input.checkpoint); // counted by the compaction: not again
        return output;
      }),
      clear: fromPromise<ClearOutput, ClearInput>(async ({ input }) => {
        await countsSettled(registry.entry(input.sessionId)); // only exact counts are archived
        const dir = dirOf(input.sessionId);
        await afterCommits.settled(input.sessionId);
        const output = await registry.whileCommitting(
          input.sessionId,
          runClear({ dir, estimator, now }, input),
        );
        afterCommit(input.sessionId, dir);
        return output;
      }),
      close: fromPromise<undefined, { sessionId: string; requestTokens: number }>(async ({ input }) => {
        await registry.unload(input.sessionId, async (entry) => {
          await countsSettled(entry); // held by the store, which writes them as it closes
          await afterCommits.settled(input.sessionId); // before the record written here
          try {
            if (!readOnly) await writeRecord(input.sessionId, entry.dir, input.requestTokens);
          } finally {
            await entry.dir.release();
          }
        });
        return undefined;
      }),
    },
  });
}
