/**
 * The fault matrix over the compaction commit, clear and reset: real I/O errors (ENOSPC, EIO,
 * short writes) injected by the LD_PRELOAD shim into a child process, on every call of each kind
 * that the commit makes in the session's directory (the 1st, the 2nd, ... until the operation
 * makes no such call any more). For each: the failure is an IO_ERROR, memory and disk stay as they
 * were (so a retry in the same process commits exactly once), and after the child exits every
 * acknowledged message is exactly once in archive + live; a session left after its failure is
 * then committed by a new process, exactly once too. The one fault after the commit point that
 * fails the operation (the fsync of checkpoint.json's directory) says the commit is in the files
 * but not durable, and the same process's retry is refused until the session is loaded again.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../../src/core/ids.js';
import type { Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { FaultControl, buildFaultShim, faultEnv, type Fault, type ShimBuild } from '../support/fault-shim.js';
import { tempRoot } from '../helpers/temp-root.js';
import { MESSAGES_PER_CASE, inputFor, type FaultCase, type FaultOutcome } from './commit-fault-child.js';

const CHILD = fileURLToPath(new URL('./commit-fault-child.ts', import.meta.url));

/** The kinds of fault, each tried on the 1st, 2nd, ... matching call of the operation. */
const VARIANTS: (Omit<Fault, 'path' | 'nth'> & { name: string })[] = [
  { name: 'write ENOSPC', ops: ['write'], errno: 'ENOSPC' },
  { name: 'write short then ENOSPC (a full disk)', ops: ['write'], errno: 'ENOSPC', short: true },
  { name: 'write EIO', ops: ['write'], errno: 'EIO' },
  { name: 'fsync EIO (file or directory)', ops: ['fsync'], errno: 'EIO' },
  { name: 'rename ENOSPC', ops: ['rename'], errno: 'ENOSPC' },
  { name: 'rename EIO', ops: ['rename'], errno: 'EIO' },
  { name: 'truncate EIO', ops: ['truncate'], errno: 'EIO' },
  { name: 'open ENOSPC', ops: ['open'], errno: 'ENOSPC' },
];
const OPERATIONS = ['compact', 'clear', 'reset'] as const;
const MODES = ['retry', 'reopen'] as const;
const MAX_NTH = 16;

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

const totals = {
  cases: 0,
  faultsFired: 0,
  failed: 0,
  messagesChecked: 0,
  lost: 0,
  duplicated: 0,
  unreadable: 0,
  retries: 0,
  inDoubt: 0,
};
afterAll(() => {
  console.log(
    `commit fault matrix: ${totals.faultsFired} cases where the fault fired (of ${totals.cases} run), ` +
      `${totals.failed} failed (the others hit after the commit point), ` +
      `${totals.inDoubt} committed but not durable (refused until reloaded), ` +
      `${totals.retries} retried in the same process, ${totals.messagesChecked} acknowledged messages checked, ` +
      `${totals.lost} lost, ${totals.duplicated} duplicated, ${totals.unreadable} sessions unreadable`,
  );
});

/** Archive + live as the store holds them after a restart, checked against what was acknowledged. */
async function checkOnDisk(store: JsonFileSessionStore, featureId: string, label: string): Promise<void> {
  const dir = store.session(sessionIdOf({ type: 'feature', agentType: 'dev', featureId }));
  const expected = Array.from({ length: MESSAGES_PER_CASE }, (_, i) => i);
  totals.messagesChecked += MESSAGES_PER_CASE;
  let all: Message[];
  try {
    const loaded = await dir.load();
    all = [...(await dir.readArchive()), ...loaded.messages];
  } catch (error) {
    totals.unreadable++;
    expect.soft(String(error), `${label}: unreadable`).toBe('readable');
    return;
  } finally {
    await dir.close();
  }
  const seqs = all.map((m) => m.seq);
  totals.lost += expected.filter((s) => !seqs.includes(s)).length;
  totals.duplicated += seqs.length - new Set(seqs).size;
  expect.soft(seqs, label).toEqual(expected);
  all.forEach((m) =>
    expect.soft(m.content, `${label}: content of seq ${m.seq}`).toBe(inputFor(featureId, m.seq).content),
  );
}

async function runChild(root: string, control: FaultControl, cases: FaultCase[]): Promise<FaultOutcome[]> {
  if (!shim.ok) throw new Error(shim.reason);
  const file = path.join(path.dirname(control.file), `cases-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(cases));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...faultEnv(shim.library, control), ROOT: root, CASES: file },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as FaultOutcome);
}

describe('fault matrix: compaction commit, clear and reset under injected I/O errors', () => {
  it('every fault at every step: IO_ERROR, nothing changed, a retry commits once, nothing lost', async () => {
    const work = await tempRoot('dagent-commit-faults-');
    const root = path.join(work, 'root');
    await mkdir(root);
    const control = new FaultControl(work);
    await control.set(null);
    // Rounds: nth = 1, 2, ... for every combination whose fault still fired in the round before.
    let alive = OPERATIONS.flatMap((operation) =>
      VARIANTS.flatMap((variant) => MODES.map((mode) => ({ operation, variant, mode }))),
    );
    const reopenCases: FaultCase[] = [];
    for (let nth = 1; nth <= MAX_NTH && alive.length > 0; nth++) {
      const cases: FaultCase[] = alive.map(({ operation, variant, mode }, i) => ({
        featureId: `n${nth}-${i}`,
        operation,
        mode,
        fault: {
          path: 'set-by-the-child',
          ops: variant.ops,
          errno: variant.errno,
          nth,
          count: -1,
          short: variant.short ?? false,
        },
      }));
      const outcomes = await runChild(root, control, cases);
      expect(outcomes).toHaveLength(cases.length);
      const next: typeof alive = [];
      outcomes.forEach((outcome, i) => {
        const c = cases[i]!;
        const label = `${c.operation}, ${alive[i]!.variant.name}, call ${nth}, ${c.mode}`;
        totals.cases++;
        if (outcome.faulted.length === 0) return; // the operation makes fewer such calls: done
        totals.faultsFired++;
        next.push(alive[i]!);
        if (outcome.error !== null) {
          totals.failed++;
          expect.soft(outcome.error.code, `${label}: ${outcome.error.message}`).toBe('IO_ERROR');
        }
        // Only the fsync of checkpoint.json's directory fails after the commit point: then the files
        // hold the commit, the error says so, and the session refuses a retry until it is loaded again.
        const inDoubt = outcome.error?.outcome === 'in-place-not-durable';
        if (inDoubt) {
          totals.inDoubt++;
          expect.soft(alive[i]!.variant.ops, label).toEqual(['fsync']);
          expect.soft(outcome.error!.message, label).toContain('checkpoint.json is in place');
        }
        if (c.mode === 'retry' && outcome.error !== null) {
          totals.retries++;
          if (inDoubt)
            expect
              .soft(outcome.retry, label)
              .toMatchObject({ ok: false, code: 'IO_ERROR', outcome: 'refused-in-doubt' });
          else expect.soft(outcome.retry, label).toEqual({ ok: true });
        }
        // In memory, in this same process: every acknowledged message exactly once, unchanged.
        expect.soft(outcome.history, label).toEqual(Array.from({ length: MESSAGES_PER_CASE }, (_, s) => s));
        expect.soft(outcome.historyIntact, label).toBe(true);
        if (c.mode === 'reopen' && outcome.error !== null) reopenCases.push(c);
      });
      // After the child exited: on disk, the same.
      const store = await JsonFileSessionStore.open({ root });
      try {
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome.faulted.length > 0)
            await checkOnDisk(store, outcome.featureId, `${cases[i]!.featureId} on disk`);
        }
      } finally {
        await store.close();
      }
      alive = next;
    }
    expect(alive, 'some fault still fires at call 16: raise MAX_NTH').toEqual([]);
    expect(totals.inDoubt, 'the fsync of checkpoint.json directory was faulted').toBeGreaterThan(0);
    expect(reopenCases.length).toBeGreaterThan(0);

    // Sessions left after a failure: a new process commits them, exactly once.
    const runtime = await createSessionRuntime({
      root,
      estimator: createTokenEstimator({ mode: 'approximate' }),
      compaction: { retryBaseMs: 1e9, retryMaxMs: 1e9 },
    });
    try {
      for (const c of reopenCases) {
        const id = sessionIdOf({ type: 'feature', agentType: 'dev', featureId: c.featureId });
        const retried = await (
          c.operation === 'compact'
            ? runtime.compact(id, { keepRecentTokens: 60 })
            : c.operation === 'clear'
              ? runtime.clearMessages(id)
              : runtime.reset(id)
        ).then(
          () => null,
          (e: unknown) => e,
        );
        if (retried !== null) {
          expect.soft(String(retried), `${c.featureId}: the retry in a new process`).toBe('committed');
          continue;
        }
        const history = await runtime.getHistory(id);
        expect
          .soft(
            history.map((m) => m.seq),
            c.featureId,
          )
          .toEqual(Array.from({ length: MESSAGES_PER_CASE }, (_, s) => s));
      }
    } finally {
      await runtime.close();
    }
    const store = await JsonFileSessionStore.open({ root });
    try {
      for (const c of reopenCases)
        await checkOnDisk(store, c.featureId, `${c.featureId} after the retry in a new process`);
    } finally {
      await store.close();
    }
  }, 600_000);
});
