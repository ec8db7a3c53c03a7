/**
 * Which thread waits for an append's fdatasync: with `syncAppends: 'calling-thread'`, every
 * fdatasync of chat.log is made on the process's main thread; by default (and with
 * `'thread-pool'`), none is. A child appends through the real runtime under an LD_PRELOAD shim
 * (sync-thread-shim.c) that records the pid and thread id of each fdatasync call; the main thread's
 * id is the pid. The other files' fdatasyncs (the session's creation) stay in the pool either way.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildShim, type ShimBuild } from '../support/fault-shim.js';
import { tempRoot } from '../helpers/temp-root.js';
import { AppendChild, checkHistory, historyOf } from './append-driver.js';

interface Sync {
  pid: number;
  tid: number;
  file: string;
}

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildShim('sync-thread-shim');
});

/** Appends 5 messages one by one and 6 at once; returns the fdatasyncs the child made. */
async function syncsOf(syncAppends: 'thread-pool' | 'calling-thread' | undefined): Promise<Sync[]> {
  if (!shim.ok) throw new Error(shim.reason);
  const dir = await tempRoot('dagent-sync-thread-');
  const log = path.join(dir, 'syncs');
  const root = path.join(dir, 'root');
  const env = { ...process.env, LD_PRELOAD: shim.library, SYNC_THREAD_LOG: log, UV_USE_IO_URING: '0' };
  const child = AppendChild.start(env);
  try {
    expect(await child.open(root, 1024 * 1024, syncAppends)).toHaveProperty('opened');
    expect(await child.append(0, 5)).toEqual([]);
    expect(await child.append(5, 6, true)).toEqual([]);
    await child.close();
  } finally {
    await child.exit();
  }
  const history = checkHistory(await historyOf(root), child.reports, `syncAppends ${String(syncAppends)}`);
  expect(history.problems).toEqual([]);
  expect(history.acknowledged).toBe(11);
  const text = await readFile(log, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [pid, tid, ...file] = line.split(' ');
      return { pid: Number(pid), tid: Number(tid), file: file.join(' ') };
    })
    .filter((sync) => sync.pid === child.process.pid);
}

const onMainThread = (sync: Sync) => sync.tid === sync.pid;
const isLog = (sync: Sync) => path.basename(sync.file) === 'chat.log';

describe('syncAppends: the thread of an append fdatasync', () => {
  it("'calling-thread': every fdatasync of chat.log on the main thread, the others in the pool", async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const syncs = await syncsOf('calling-thread');
    const appends = syncs.filter(isLog);
    // At least one fdatasync per append turn: 5 one by one, then the 6 in one or more batches.
    expect(appends.length).toBeGreaterThanOrEqual(6);
    expect(appends.filter((sync) => !onMainThread(sync))).toEqual([]);
    const others = syncs.filter((sync) => !isLog(sync));
    expect(others.length).toBeGreaterThan(0);
    expect(others.filter(onMainThread)).toEqual([]);
  }, 60_000);

  it('by default and with thread-pool: no fdatasync on the main thread', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    for (const option of [undefined, 'thread-pool'] as const) {
      const syncs = await syncsOf(option);
      expect(syncs.filter(isLog).length, String(option)).toBeGreaterThanOrEqual(6);
      expect(syncs.filter(onMainThread), String(option)).toEqual([]);
    }
  }, 60_000);
});
