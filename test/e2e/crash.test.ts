/**
 * The crash test: a child process appends (single, batched, concurrent, large), compacts and
 * folds on a JsonFileSessionStore; it is SIGKILLed at a random moment; this process then checks
 * what a restart finds. Runs come in chains on one root, so that a root also survives repeated
 * crashes and the recoveries in between.
 *
 * Checked after every kill: every file parses (chat.log up to an unacknowledged torn tail), the
 * dead child's lock is taken over, every acknowledged message is in archive + live exactly once
 * with identical content, seqs run 0..K without gap or repeat, nothing past the last append begun
 * exists, the archive segments agree with the checkpoint, and the session accepts appends again.
 *
 * CRASH_RUNS sets the number of kills (default 25); CRASH_SEED replays a given sequence.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { crashChild, newTotals, verifyAfterKill } from './crash-check.js';
import { randomOf } from './crash-child.js';

const RUNS = Math.max(1, Number(process.env.CRASH_RUNS ?? 25));
const RUNS_PER_ROOT = 5;
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const totals = newTotals();

describe(`crash: SIGKILL at a random moment (${RUNS} runs, seed ${SEED})`, () => {
  const chains = Math.ceil(RUNS / RUNS_PER_ROOT);
  const random = randomOf(SEED);
  const plans = Array.from({ length: chains }, (_, c) =>
    Array.from({ length: Math.min(RUNS_PER_ROOT, RUNS - c * RUNS_PER_ROOT) }, () => ({
      seed: Math.floor(random() * 2 ** 31),
      delayMs: 30 + Math.floor(random() * 371),
    })),
  );

  afterAll(() => {
    console.log(`[crash] seed ${SEED}: ${JSON.stringify(totals)}`);
  });

  // Roots side by side (up to vitest's maxConcurrency): the children spend most of their life starting up.
  it.concurrent.each(plans.map((plan, i) => [i, plan] as const))(
    'root %i: every acknowledged message survives each kill',
    async (chain, plan) => {
      const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-crash-'));
      try {
        let maxAcked = -1;
        for (const [run, { seed, delayMs }] of plan.entries()) {
          const report = await crashChild(root, seed, delayMs);
          const context = `seed ${SEED}, root ${chain}, run ${run} (child seed ${seed}, killed after ${delayMs} ms)`;
          ({ maxAcked } = await verifyAfterKill(totals, root, report, maxAcked, context));
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
