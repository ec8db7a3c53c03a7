/**
 * The process test/store/commit-faults.test.ts runs under the LD_PRELOAD fault shim. For each case
 * of CASES (a JSON file), in one runtime on ROOT: a fresh session gets its messages; the fault is
 * set on that session's directory; the operation (compact, clear, reset) runs and fails (or not);
 * the fault is lifted; in `retry` mode the operation runs again in this same process. One JSON line
 * per case on stdout says what happened and what the session held afterwards.
 *
 * Run: `node --import tsx test/store/commit-fault-child.ts` with ROOT, CASES and FAULT_CONTROL.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isSessionError } from '../../src/core/errors.js';
import type { Message, MessageInput } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { FaultControl, type Fault } from '../support/fault-shim.js';

/** One case of the matrix. */
export interface FaultCase {
  featureId: string;
  operation: 'compact' | 'clear' | 'reset';
  fault: Fault;
  mode: 'retry' | 'reopen';
}

/** What the child reports for a case. */
export interface FaultOutcome {
  featureId: string;
  /** The calls the fault failed (shim log lines). */
  faulted: string[];
  /**
   * The failure of the first attempt, or null when it succeeded (the fault hit after the commit
   * point); `outcome` is the store's `details.outcome` (`in-place-not-durable`: committed, not durable).
   */
  error: { code: string; message: string; errno?: unknown; outcome?: unknown } | null;
  /** The retry in this process (`retry` mode), or null. */
  retry: { ok: true } | { ok: false; code: string; message: string; outcome?: unknown } | null;
  /** Seqs of getHistory after everything, in order. */
  history: number[];
  /** Whether getHistory's messages were exactly the acknowledged ones. */
  historyIntact: boolean;
  acknowledged: number;
}

/** The messages of a case: what the parent expects to read back. */
export const MESSAGES_PER_CASE = 12;
export function inputFor(featureId: string, i: number): MessageInput {
  return {
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `${featureId} message ${i}: ${'lorem ipsum dolor sit amet ünïcode '.repeat(6)}`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  };
}

/** Messages as JSON values: a copy in memory and one read from disk compare equal. */
export function plain(messages: readonly Message[]): unknown {
  return JSON.parse(JSON.stringify(messages)) as unknown;
}

async function main(): Promise<void> {
  const root = process.env.ROOT!;
  const cases = JSON.parse(await readFile(process.env.CASES!, 'utf8')) as FaultCase[];
  const control = new FaultControl(path.dirname(process.env.FAULT_CONTROL!));
  const runtime = await createSessionRuntime({
    root,
    estimator: createTokenEstimator({ mode: 'approximate' }),
    limits: { maxTokens: 100_000 },
    // No retry by itself: this process decides when to retry.
    compaction: { retryBaseMs: 1e9, retryMaxMs: 1e9 },
  });
  for (const c of cases) {
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: c.featureId });
    const acked: Message[] = [];
    for (let i = 0; i < MESSAGES_PER_CASE; i++)
      acked.push(await runtime.addMessage(id, inputFor(c.featureId, i)));
    const run = () =>
      c.operation === 'compact'
        ? runtime.compact(id, { keepRecentTokens: 60 })
        : c.operation === 'clear'
          ? runtime.clearMessages(id)
          : runtime.reset(id);
    const seen = (await control.faulted()).length;
    await control.set({ ...c.fault, path: `sessions/${id}` });
    let error: FaultOutcome['error'] = null;
    try {
      await run();
    } catch (e) {
      const cause = (e as { cause?: { details?: { errno?: unknown; outcome?: unknown }; code?: unknown } })
        .cause;
      const details = (e as { details?: { errno?: unknown; outcome?: unknown } }).details;
      error = {
        code: isSessionError(e) ? e.code : String((e as { code?: unknown }).code),
        message: (e as Error).message,
        errno: details?.errno ?? cause?.details?.errno ?? cause?.code,
        outcome: details?.outcome ?? cause?.details?.outcome,
      };
    }
    await control.set(null);
    const faulted = (await control.faulted()).slice(seen);
    let retry: FaultOutcome['retry'] = null;
    if (c.mode === 'retry' && error !== null) {
      try {
        await run();
        retry = { ok: true };
      } catch (e) {
        const outcome = (e as { details?: { outcome?: unknown } }).details?.outcome;
        retry = {
          ok: false,
          code: String((e as { code?: unknown }).code),
          message: (e as Error).message,
          outcome,
        };
      }
    }
    const history = await runtime.getHistory(id);
    const outcome: FaultOutcome = {
      featureId: c.featureId,
      faulted,
      error,
      retry,
      history: history.map((m) => m.seq),
      historyIntact: isDeepStrictEqual(plain(history), plain(acked)),
      acknowledged: acked.length,
    };
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
  await runtime.close();
}

if (process.env.CASES) await main();
