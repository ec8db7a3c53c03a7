/**
 * The crash test during fault recovery: the crash child runs under the fault shim, so that its
 * appends fail (a full disk after a short write, EIO on fdatasync, a failed cut-back) and it cuts
 * them back and retries, or reopens the session after an unknown outcome; the fault is lifted at a
 * random moment, and the child is SIGKILLed at another, before or after the lift. A restart must
 * then find exactly what crash.test.ts asks for: every acknowledged message once, verbatim, no
 * damage, nothing past the last append begun.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FaultControl, buildFaultShim, faultEnv, type Fault, type ShimBuild } from '../support/fault-shim.js';
import { crashChild, newTotals, verifyAfterKill } from './crash-check.js';
import { randomOf } from './crash-child.js';

const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const totals = { ...newTotals(), killedBeforeLift: 0, killedAfterLift: 0, faultedCalls: 0 };

/** Persistent faults on chat.log, from the nth matching call until lifted. */
const FAULTS: ((nth: number) => Fault)[] = [
  (nth) => ({ path: 'chat.log', nth, count: -1, short: true, errno: 'ENOSPC' }),
  (nth) => ({ path: 'chat.log', ops: ['fsync'], nth, count: -1, errno: 'EIO' }),
  (nth) => ({ path: 'chat.log', ops: ['write', 'truncate'], nth, count: -1, short: true, errno: 'ENOSPC' }),
  (nth) => ({ path: 'chat.log', ops: ['fsync', 'truncate'], nth, count: 3, errno: 'EIO' }),
];
const RUNS_PER_FAULT = 2;

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

afterAll(() => {
  console.log(`[crash-faults] seed ${SEED}: ${JSON.stringify(totals)}`);
});

describe(`crash during fault recovery (seed ${SEED})`, () => {
  it.concurrent.for(FAULTS.map((fault, i) => [i, fault] as const))(
    'fault %i: every acknowledged message survives a kill during the fault or after its lift',
    async ([kind, fault], t) => {
      if (!shim.ok) return t.skip(shim.reason);
      const random = randomOf(SEED + kind);
      const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-crash-faults-'));
      const control = new FaultControl(root);
      try {
        let maxAcked = -1;
        for (let run = 0; run < RUNS_PER_FAULT; run++) {
          const injected = fault(1 + Math.floor(random() * 12));
          // Even runs are killed during the fault, odd ones after it was lifted.
          const killMs = 60 + Math.floor(random() * 340);
          const liftMs = run % 2 === 0 ? killMs + 1_000 : Math.floor(random() * (killMs - 40));
          await control.set(injected);
          let lift: Promise<void> | null = null;
          let timer: NodeJS.Timeout | undefined;
          const report = await crashChild(root, Math.floor(random() * 2 ** 31), killMs, {
            env: { ...faultEnv(shim.library, control), CRASH_FAULTS: '1' },
            onReady: () => {
              timer = setTimeout(() => {
                lift = control.set(null);
                lift.catch(() => undefined); // awaited below; only a failed run leaves it behind
              }, liftMs);
            },
          }).finally(() => clearTimeout(timer));
          await (lift ?? control.set(null));
          if (liftMs < killMs) totals.killedAfterLift++;
          else totals.killedBeforeLift++;
          const context =
            `seed ${SEED}, fault ${kind} (${JSON.stringify(injected)}), ` +
            `run ${run}, lift ${liftMs} ms, kill ${killMs} ms`;
          ({ maxAcked } = await verifyAfterKill(totals, root, report, maxAcked, context));
        }
        totals.faultedCalls += (await control.faulted()).length;
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
