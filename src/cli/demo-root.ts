/**
 * @internal Where the demo writes its sessions. Without `--root`, a new directory
 * `dagent-sessions-demo-XXXXXX` in the system's temporary directory, removed when the demo ends;
 * directories of that name left behind (a demo killed before it could clean up, or one of a
 * version that never removed them) are removed when the next demo starts, unless the process
 * holding one is still running.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isErrno } from '../store/durable-fs.js';
import { readLockHolder } from '../store/root-lock.js';

/** @internal The name of a demo's temporary root: mkdtemp's six characters after the prefix. */
export const DEMO_ROOT_PREFIX = 'dagent-sessions-demo-';
const DEMO_ROOT_NAME = /^dagent-sessions-demo-[A-Za-z0-9]{6}$/;

/** A directory without a lock may be a demo that is starting; only older ones are removed. */
const UNLOCKED_GRACE_MS = 10 * 60_000;

/**
 * @internal Whether the process that holds a demo root may still run: unless it is on this host
 * and its pid is free, it is taken as running (a reused pid only leaves a directory for later).
 */
function mayRun(holder: { pid: number; hostname: string }): boolean {
  if (holder.hostname !== os.hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}

/** @internal The demo's root, and what was cleaned up to make it. */
export interface DemoRoot {
  root: string;
  /** Made by the demo, and removed by {@link DemoRoot.dispose}. */
  temporary: boolean;
  /** Leftover demo roots removed before this one was made. */
  swept: string[];
  /** Removes a temporary root (and nothing else); idempotent. */
  dispose(): Promise<void>;
}

/**
 * @internal Removes the demo roots under `dir` that nobody uses any more: those whose lock names a
 * process that is gone, and those without a lock last changed more than ten minutes ago.
 * @returns the directories removed.
 */
export async function sweepDemoRoots(dir: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const name of names.filter((n) => DEMO_ROOT_NAME.test(n))) {
    const root = path.join(dir, name);
    try {
      if (!(await stat(root)).isDirectory()) continue;
      const holder = await readLockHolder(root);
      if (holder !== null ? mayRun(holder) : now - (await stat(root)).mtimeMs < UNLOCKED_GRACE_MS) continue;
      await rm(root, { recursive: true, force: true });
      swept.push(root);
    } catch {
      // Not ours to judge (unreadable, removed meanwhile): leave it.
    }
  }
  return swept;
}

/**
 * @internal The demo's root: `root` as given (kept), or a new temporary one after sweeping
 * leftovers in `tmp`.
 * @example const demo = await createDemoRoot(undefined); try { ... } finally { await demo.dispose(); }
 */
export async function createDemoRoot(root: string | undefined, tmp = os.tmpdir()): Promise<DemoRoot> {
  if (root !== undefined) return { root, temporary: false, swept: [], dispose: async () => undefined };
  const swept = await sweepDemoRoots(tmp);
  const made = await mkdtemp(path.join(tmp, DEMO_ROOT_PREFIX));
  return {
    root: made,
    temporary: true,
    swept,
    dispose: () => rm(made, { recursive: true, force: true }),
  };
}
