/**
 * The fault matrix over append and fold: a child process appends through the real runtime while
 * the LD_PRELOAD shim makes the n-th write, fdatasync, truncate or rename of chat.log or of
 * chat.json's temporary file fail (ENOSPC after a short write, EIO), for several n. After the
 * faulted appends the parent reads the root as a restart would (a read-only runtime, while the
 * child still runs); then it lifts the fault, the same process appends again, and the parent reads
 * once more after the child closed.
 *
 * Checked every time: every acknowledged message exactly once, with its seq and content; no
 * rejected append comes back; every rejection is `IO_ERROR` with the injected errno in `details`
 * and an honest `retryable`; once the fault is lifted, appends succeed in the same process (after
 * reopening the session when an append's outcome was unknown). The faults of chat.log and of
 * fdatasyncs run a second time with `syncAppends: 'calling-thread'` (the fdatasync of a small
 * append on the main thread): the same rejections, the same checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultControl, buildFaultShim, faultEnv, type Fault, type ShimBuild } from '../support/fault-shim.js';
import { tempRoot } from '../helpers/temp-root.js';
import { AppendChild, checkHistory, historyOf } from './append-driver.js';
import type { ReportedError } from './append-child.js';

interface Case {
  name: string;
  fault: Fault;
  foldMinBytes: number;
}

const SMALL_FOLD = 1024;
const NO_FOLD = 1024 * 1024;

const cases: Case[] = [
  ...[1, 2, 3].flatMap((nth): Case[] => [
    {
      name: `chat.log write ${nth}: short, then the disk stays full`,
      fault: { path: 'chat.log', nth, count: -1, short: true, errno: 'ENOSPC' },
      foldMinBytes: SMALL_FOLD,
    },
    {
      name: `chat.log write ${nth}: short, then space returns`,
      fault: { path: 'chat.log', nth, count: 2, short: true, errno: 'ENOSPC' },
      foldMinBytes: SMALL_FOLD,
    },
    {
      name: `chat.log write ${nth}: EIO`,
      fault: { path: 'chat.log', nth, count: 1, errno: 'EIO' },
      foldMinBytes: SMALL_FOLD,
    },
    {
      name: `chat.log fdatasync ${nth} on: EIO`,
      fault: { path: 'chat.log', ops: ['fsync'], nth, count: -1, errno: 'EIO' },
      foldMinBytes: NO_FOLD,
    },
    {
      name: `chat.json temporary file write ${nth} on: short, then a full disk`,
      fault: { path: '.chat.json.', nth, count: -1, short: true, errno: 'ENOSPC' },
      foldMinBytes: SMALL_FOLD,
    },
  ]),
  // Once per fold: a fold runs in the background while appends go on, so a case's 14 appends
  // see two folds (not three, as when each fold ran inside the append that crossed the line).
  ...[1, 2].flatMap((nth): Case[] => [
    {
      name: `chat.json temporary file fdatasync ${nth} on: EIO`,
      fault: { path: '.chat.json.', ops: ['fsync'], nth, count: -1, errno: 'EIO' },
      foldMinBytes: SMALL_FOLD,
    },
    {
      name: `chat.json rename ${nth} on: EIO`,
      fault: { path: 'chat.json', ops: ['rename'], nth, count: -1, errno: 'EIO' },
      foldMinBytes: SMALL_FOLD,
    },
    {
      name: `chat.log rename ${nth} on: EIO (a fold cannot replace the log)`,
      fault: { path: 'chat.log', ops: ['rename'], nth, count: -1, errno: 'EIO' },
      foldMinBytes: SMALL_FOLD,
    },
  ]),
  {
    // 8 appends one by one, then 6 at once: all 6 in one group commit (one turn), the 9th fdatasync.
    name: 'chat.log fdatasync 9: EIO on the last append before the restart',
    fault: { path: 'chat.log', ops: ['fsync'], nth: 9, count: 1, errno: 'EIO' },
    foldMinBytes: NO_FOLD,
  },
  {
    name: 'chat.log fdatasync 3: EIO, and cutting the append back fails too (outcome unknown)',
    fault: { path: 'chat.log', ops: ['fsync', 'truncate'], nth: 3, count: 2, errno: 'EIO' },
    foldMinBytes: NO_FOLD,
  },
  {
    name: 'every write, sync, rename and truncate of the session: a full disk from the 4th call on',
    fault: {
      path: '/.dagent/sessions/',
      ops: ['write', 'fsync', 'rename', 'truncate'],
      nth: 4,
      count: -1,
      short: true,
      errno: 'ENOSPC',
    },
    foldMinBytes: SMALL_FOLD,
  },
];

/** Each rejection names the injected errno and is retryable exactly when nothing is in doubt. */
function checkRejection(error: ReportedError, fault: Fault, context: string): void {
  expect(error.code, `${context}: ${error.message}`).toBe('IO_ERROR');
  expect(error.errno, `${context}: details.errno of ${error.message}`).toBe(fault.errno);
  expect(['not-written', 'unknown', 'refused'], `${context}: details.outcome`).toContain(error.outcome);
  expect(error.retryable, `${context}: retryable (${error.outcome})`).toBe(error.outcome === 'not-written');
}

let shim: ShimBuild;
type Totals = Record<
  'cases' | 'acknowledgedChecked' | 'lost' | 'changed' | 'cameBack' | 'rejected' | 'unknown',
  number
>;
const zero = (): Totals => ({
  cases: 0,
  acknowledgedChecked: 0,
  lost: 0,
  changed: 0,
  cameBack: 0,
  rejected: 0,
  unknown: 0,
});
const totals = zero();

beforeAll(async () => {
  shim = await buildFaultShim();
});

afterAll(() => {
  console.log(`[append-faults] ${JSON.stringify(totals)}`);
});

/** Runs `matrix` in one child (appends flushed per `syncAppends`); returns its totals. */
async function runMatrix(matrix: Case[], syncAppends?: 'calling-thread'): Promise<Totals> {
  const mine = zero();
  const dir = await tempRoot('dagent-faults-');
  const control = new FaultControl(dir);
  await control.set(null);
  const child = AppendChild.start(faultEnv((shim as { library: string }).library, control));
  try {
    let next = 0;
    let faultedBefore = 0;
    for (const [n, { name, fault, foldMinBytes }] of matrix.entries()) {
      const root = await tempRoot('dagent-faults-root-');
      const context = `case ${n} (${name})${syncAppends ? `, ${syncAppends}` : ''}`;
      child.reports.acked.clear();
      child.reports.failed.clear();
      expect(await child.open(root, foldMinBytes, syncAppends), context).toHaveProperty('opened');
      await control.set(fault);
      const faulted = [...(await child.append(next, 8)), ...(await child.append(next + 8, 6, true))];
      next += 14;
      await control.set(null);
      const hits = await control.faulted();
      expect(hits.length - faultedBefore, `${context}: calls the shim failed`).toBeGreaterThan(0);
      faultedBefore = hits.length;
      faulted.forEach((error) => checkRejection(error, fault, context));
      // What a restart would find now, while the child still holds the session.
      const now = checkHistory(await historyOf(root), child.reports, `${context}, after the fault`);
      expect(now.problems).toEqual([]);

      // The same process appends again; after an unknown outcome, only once it reopened.
      let again = await child.append(next, 5);
      next += 5;
      if (faulted.some((e) => e.outcome === 'unknown')) {
        expect(
          again.map((e) => e.outcome),
          context,
        ).toEqual(again.map(() => 'refused'));
        again.forEach((error) => checkRejection(error, fault, context));
        await child.close();
        expect(await child.open(root, foldMinBytes, syncAppends), context).toHaveProperty('opened');
        again = await child.append(next, 5);
        next += 5;
        mine.unknown++;
      }
      expect(again, `${context}: appends after the fault was lifted`).toEqual([]);
      await child.close();
      const end = checkHistory(await historyOf(root), child.reports, `${context}, at the end`);
      expect(end.problems).toEqual([]);
      mine.acknowledgedChecked += end.acknowledged;
      mine.lost += end.lost;
      mine.changed += end.changed;
      mine.cameBack += end.cameBack;
      mine.cases++;
      mine.rejected += faulted.length;
    }
  } finally {
    await child.exit();
  }
  for (const key of Object.keys(totals) as (keyof Totals)[]) totals[key] += mine[key];
  return mine;
}

describe('the fault matrix over append and fold (LD_PRELOAD shim, real runtime in a child)', () => {
  it('loses, changes and brings back nothing, and appends again once the fault is lifted', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const mine = await runMatrix(cases);
    // The matrix did meet faults: most cases rejected appends.
    expect(mine.rejected).toBeGreaterThan(cases.length);
    expect(mine.unknown).toBeGreaterThanOrEqual(1);
  }, 240_000);

  // syncAppends: 'calling-thread' changes only where a small append's fdatasync is made: the cases
  // that fault it (and the full disk) again, with the fdatasync on the main thread.
  const onThisThread = cases.filter(({ fault }) => fault.path === 'chat.log' || fault.ops?.includes('fsync'));

  it("the same with syncAppends 'calling-thread', for the faults of chat.log and of fdatasyncs", async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const mine = await runMatrix(onThisThread, 'calling-thread');
    expect(mine.rejected).toBeGreaterThan(onThisThread.length);
    expect(mine.unknown).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
