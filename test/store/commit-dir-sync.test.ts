/**
 * A compaction commit whose checkpoint.json (the commit point) is renamed into place, after which
 * the fsync of the session's directory fails (EIO from the LD_PRELOAD shim, on that directory's own
 * fsync only). The files then hold the commit while the store's memory does not: the error says so
 * (in place, not durable, what to do), the session takes appends but refuses every other write
 * until it is loaded again (a retried commit would replace a segment a load already shows as
 * committed), and a load (the same store, or a new process) shows every acknowledged message
 * exactly once.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ID, messages } from '../../src/conformance/fixtures.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FaultControl, buildFaultShim, runUnderShim, type ShimBuild } from '../support/fault-shim.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SHIM = fileURLToPath(new URL('../support/fault-shim.ts', import.meta.url));

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

/**
 * The child: a session with seqs 0..5, segment 1 (seqs 0..1) committed; then, with EIO on the
 * session directory's fsync, the commit of segment 2 (seqs 2..3); then appends of 6 and 7 and the
 * writes a runtime may try next; in `reload` mode, a load and a commit after it. Prints what each did.
 */
const CHILD = `
const { JsonFileSessionStore } = await import(${JSON.stringify(`${SRC}store/session-store.ts`)});
const f = await import(${JSON.stringify(`${SRC}conformance/fixtures.ts`)});
const { FaultControl } = await import(${JSON.stringify(SHIM)});
const path = await import('node:path');
const [root, controlDir, mode] = process.argv.slice(1);
const control = new FaultControl(controlDir);
const outcome = (promise) => promise.then(
  () => 'ok',
  (e) => ({ code: e.code, retryable: e.retryable, message: e.message, details: e.details }),
);
const commit = (n, version, held, through, archived) => store.commit(f.ID, {
  segment: f.segmentOf(n, version, held),
  checkpoint: f.checkpointOf(version, n, through, archived),
});
const store = await JsonFileSessionStore.open({ root });
await store.create(f.recordOf());
await store.append(f.ID, f.messages(0, 6));
await commit(1, 1, f.messages(0, 2), 1, 2);
await store.settled(); // the fold that drops seqs 0..1 from chat.json: its directory fsync is not the one faulted
const dir = path.join(root, '.dagent', 'sessions', f.ID);
await control.set({ path: dir + '$', ops: ['fsync'], errno: 'EIO', count: 1 });
const out = {};
out.commit = await outcome(commit(2, 2, f.messages(2, 4), 3, 4));
await control.set(null);
out.faulted = await control.faulted();
out.append = await outcome(store.append(f.ID, f.messages(6, 8)));
out.retry = await outcome(commit(2, 2, f.messages(2, 7), 6, 7));
const checks = [{ checkId: 'c', passed: true }];
out.checks = await outcome(store.recordChecks(f.ID, checks, '2026-01-03T00:00:00.000Z'));
out.context = await outcome(store.writeContext(f.ID, { featureName: 'x' }));
if (mode === 'reload') {
  const head = await store.load(f.ID);
  out.reloaded = { version: head.checkpoint?.version, live: head.messages.map((m) => m.seq) };
  out.after = await outcome(commit(3, 3, f.messages(4, 6), 5, 6));
}
await store.close();
console.log(JSON.stringify(out));
`;

interface Outcome {
  code: string;
  retryable: boolean;
  message: string;
  details: Record<string, unknown>;
}

async function run(mode: 'reload' | 'exit'): Promise<{ root: string; out: Record<string, unknown> }> {
  if (!shim.ok) throw new Error(shim.reason);
  // The shim matches the path /proc/self/fd shows: the real one.
  const work = await realpath(await tempRoot('dagent-commit-dir-sync-'));
  const control = new FaultControl(work);
  await control.set(null);
  const out = (await runUnderShim(shim.library, control, CHILD, [work, work, mode])) as Record<
    string,
    unknown
  >;
  return { root: work, out };
}

/** Archive + live after a restart: every acknowledged message (seqs 0..7) once, in order, unchanged. */
async function expectEveryMessageOnce(root: string, version: number): Promise<void> {
  const store = await JsonFileSessionStore.open({ root });
  try {
    const head = await store.load(ID);
    const archived = (await store.readArchive(ID)).messages;
    expect([...archived, ...head.messages]).toEqual(messages(0, 8));
    expect(head.checkpoint?.version).toBe(version);
  } finally {
    await store.close();
  }
}

describe('a commit whose directory fsync fails after checkpoint.json is in place (EIO)', () => {
  it('says the commit is in the files but not durable, takes appends only, and a load shows it', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const { root, out } = await run('reload');
    const dir = path.join(root, '.dagent', 'sessions', ID);
    expect(out.faulted).toEqual([`fsync ${dir}`]);
    const commit = out.commit as Outcome;
    expect(commit).toMatchObject({
      code: 'IO_ERROR',
      retryable: false,
      details: {
        outcome: 'in-place-not-durable',
        installed: path.join(dir, 'checkpoint.json'),
        errno: 'EIO',
        sessionId: ID,
      },
    });
    expect(commit.message).toContain('checkpoint.json is in place and a load shows it committed');
    expect(commit.message).toContain('a power loss may undo it');
    expect(commit.message).toContain('reopen the session: runtime.reopenSession(id)');
    expect(commit.message).not.toMatch(/unchanged|as it was/);
    // Appends go on; every other write waits for a load, and says why.
    expect(out.append).toBe('ok');
    for (const refused of [out.retry, out.checks, out.context] as Outcome[]) {
      expect(refused).toMatchObject({
        code: 'IO_ERROR',
        retryable: false,
        details: { outcome: 'refused-in-doubt' },
      });
      expect(refused.message).toContain('nothing was written');
      expect(refused.message).toContain('runtime.reopenSession(id)');
    }
    // A load reads the files: the commit is there, and writes are taken again.
    expect(out.reloaded).toEqual({ version: 2, live: [4, 5, 6, 7] });
    expect(out.after).toBe('ok');
    await expectEveryMessageOnce(root, 3);
  }, 60_000);

  it('a new process finds the commit and every acknowledged message exactly once', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const { root, out } = await run('exit');
    expect(out.commit).toMatchObject({ code: 'IO_ERROR', details: { outcome: 'in-place-not-durable' } });
    expect(out.append).toBe('ok');
    await expectEveryMessageOnce(root, 2);
  }, 60_000);
});
