/**
 * A session actor on fake effects over an in-memory "disk", with a simulated clock: what the
 * machine tests drive.
 */
import { SimulatedClock, createActor, fromPromise, type Actor } from 'xstate';
import {
  createWriter,
  sessionMachine,
  type AppendReply,
  type CommitInput,
  type CompactInput,
  type CompactOutput,
  type CompactReply,
  type LoadOutput,
  type SummariseOutput,
} from '../../machines/session.machine.js';
import { emptyCheckpoint } from '../../src/core/empty-checkpoint.js';
import { planCompaction } from '../../src/core/plan-compaction.js';
import type { Limits, Message } from '../../src/core/types.js';

export type CompactMode = 'ok' | 'fail' | 'hang' | 'no-progress' | 'hang-after-commit-start';

export interface Disk {
  live: Message[];
  archive: Message[];
  checkpointVersion: number;
}

export interface Harness {
  actor: Actor<typeof sessionMachine>;
  clock: SimulatedClock;
  disk: Disk;
  /** Calls of each effect, in order (`compact`: the summaries asked for). */
  calls: { persist: number[][]; compact: CompactInput[]; commit: CommitInput[] };
  /** Signals handed to compact calls, to check cancellation. */
  signals: AbortSignal[];
  setCompactMode(mode: CompactMode): void;
  /** Resolves the compaction that hangs (mode 'hang' or 'hang-after-commit-start'). */
  releaseCompaction(): void;
  /** Holds the next persist until released. */
  holdPersist(): () => void;
  append(tokens: number, id?: string): Promise<AppendReply>;
  compact(keepRecentTokens?: number): Promise<CompactReply>;
  emitted: { type: string }[];
  flush(): Promise<void>;
  /** Appends 8 x 100 tokens: the request then passes the threshold of LIMITS (800). */
  fillPastThreshold(): Promise<void>;
}

/** What `load` reports for a new, empty session. */
export const EMPTY_LOAD = {
  liveTokens: 0,
  liveCount: 0,
  lastSeq: -1,
  archivedThroughSeq: -1,
  descriptionTokens: 0,
  contextTokens: 0,
  checkpointTokens: 0,
  checkpointVersion: 0,
};

export const LIMITS: Limits = {
  maxTokens: 1_000,
  compactAt: 0.8,
  keepRecentTokens: 200,
  replyReserveTokens: 0,
  checkpointTokens: 100,
};

const flushMicrotasks = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
};

export function createHarness(
  options: { limits?: Limits; loadFails?: boolean; initial?: Message[] } = {},
): Harness {
  const limits = options.limits ?? LIMITS;
  const disk: Disk = { live: [...(options.initial ?? [])], archive: [], checkpointVersion: 0 };
  const calls = { persist: [] as number[][], compact: [] as CompactInput[], commit: [] as CommitInput[] };
  const AT = '2026-01-01T00:00:00.000Z';
  const signals: AbortSignal[] = [];
  let mode: CompactMode = 'ok';
  let release: (() => void) | null = null;
  let persistGate: Promise<void> | null = null;
  const checkpointTokens = 50;

  const machine = sessionMachine.provide({
    actors: {
      load: fromPromise<LoadOutput, { sessionId: string }>(async () => {
        if (options.loadFails) {
          throw Object.assign(new Error('[dagent-sessions] [store] chat.json does not parse'), {
            code: 'CORRUPT_FILE',
          });
        }
        const liveTokens = disk.live.reduce((s, m) => s + m.tokens, 0);
        return {
          liveTokens,
          liveCount: disk.live.length,
          lastSeq: disk.live[disk.live.length - 1]?.seq ?? -1,
          archivedThroughSeq: -1,
          descriptionTokens: 10,
          contextTokens: 10,
          checkpointTokens: 0,
          checkpointVersion: 0,
        };
      }),
      persist: createWriter(async (input) => {
        calls.persist.push(input.messages.map((m) => m.seq));
        if (persistGate) await persistGate;
        disk.live.push(...input.messages);
        return undefined;
      }),
      summarise: fromPromise<SummariseOutput, CompactInput>(async ({ input, signal }) => {
        calls.compact.push(input);
        signals.push(signal);
        const current = mode;
        if (current === 'fail')
          throw Object.assign(new Error('model overloaded'), {
            code: 'COMPACTOR_UNAVAILABLE',
            retryable: true,
          });
        if (current === 'hang') {
          await new Promise<void>((resolve, reject) => {
            release = resolve;
            signal.addEventListener('abort', () => reject(new Error('aborted')));
          });
        }
        const candidates = disk.live.filter((m) => m.seq <= input.watermarkSeq);
        if (current === 'no-progress') {
          const output: CompactOutput = {
            compactor: 'fake',
            reason: 'the fixed parts alone pass the threshold',
            tokensBefore: 0,
            tokensAfter: 0,
            durationMs: 1,
            escalation: 2,
            kind: 'nothing-to-fold',
            checkpointVersion: disk.checkpointVersion,
            checkpointTokens: 0,
            archivedThroughSeq: -1,
            messagesCompacted: 0,
            foldedTokens: 0,
            underThreshold: false,
          };
          return { output, commit: null };
        }
        const plan = planCompaction(candidates, { keepRecentTokens: input.keepRecentTokens });
        const base = {
          compactor: 'fake',
          reason: 'test',
          tokensBefore: 0,
          tokensAfter: 0,
          durationMs: 1,
          escalation: 0 as const,
        };
        if (plan.kind !== 'compact') {
          const output: CompactOutput = {
            ...base,
            kind: 'nothing-to-fold',
            checkpointVersion: disk.checkpointVersion,
            checkpointTokens: 0,
            archivedThroughSeq: -1,
            messagesCompacted: 0,
            foldedTokens: 0,
            underThreshold: true,
          };
          return { output, commit: null };
        }
        if (signal.aborted) throw new Error('aborted');
        const folded = candidates.slice(0, plan.upTo);
        const output: CompactOutput = {
          ...base,
          kind: 'compacted',
          checkpointVersion: disk.checkpointVersion + 1,
          checkpointTokens,
          archivedThroughSeq: folded[folded.length - 1]!.seq,
          messagesCompacted: folded.length,
          foldedTokens: plan.foldedTokens,
          underThreshold: true,
        };
        const segment = {
          segment: 1,
          checkpointVersion: disk.checkpointVersion + 1,
          createdAt: AT,
          firstSeq: folded[0]!.seq,
          lastSeq: folded[folded.length - 1]!.seq,
          messages: folded,
        };
        return { output, commit: { sessionId: input.sessionId, segment, checkpoint: emptyCheckpoint(AT) } };
      }),
      commit: fromPromise<CompactOutput, CommitInput>(async ({ input }) => {
        calls.commit.push(input);
        if (mode === 'hang-after-commit-start') await new Promise<void>((resolve) => (release = resolve));
        const foldedSeqs = new Set(input.segment?.messages.map((m) => m.seq) ?? []);
        disk.archive.push(...(input.segment?.messages ?? []));
        disk.live = disk.live.filter((m) => !foldedSeqs.has(m.seq));
        disk.checkpointVersion++;
        return input.output;
      }),
      close: fromPromise<undefined, { sessionId: string; requestTokens: number }>(async () => undefined),
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(machine, {
    clock,
    input: { sessionId: 's1', limits, compactionTimeoutMs: 5_000, retryBaseMs: 1_000, retryMaxMs: 8_000 },
  });
  const emitted: { type: string }[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  let n = 0;
  return {
    actor,
    clock,
    disk,
    calls,
    signals,
    emitted,
    setCompactMode: (m) => (mode = m),
    releaseCompaction: () => release?.(),
    holdPersist: () => {
      let open!: () => void;
      persistGate = new Promise<void>((r) => (open = r));
      return () => {
        persistGate = null;
        open();
      };
    },
    append: (tokens, id) =>
      new Promise<AppendReply>((reply) =>
        actor.send({
          type: 'APPEND',
          message: {
            id: id ?? `m${n++}`,
            role: 'user',
            content: 'x',
            timestamp: '2026-01-01T00:00:00.000Z',
            tokens,
          },
          reply,
        }),
      ),
    compact: (keepRecentTokens) =>
      new Promise<CompactReply>((reply) =>
        actor.send({
          type: 'COMPACT',
          reply,
          ...(keepRecentTokens === undefined ? {} : { keepRecentTokens }),
        }),
      ),
    flush: flushMicrotasks,
    async fillPastThreshold() {
      for (let i = 0; i < 8; i++) await this.append(100);
      await flushMicrotasks();
    },
  };
}
