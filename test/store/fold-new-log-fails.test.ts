/**
 * A background fold whose new log cannot be made (the open of its temporary fails, as on a full
 * disk or at a quota of files): the snapshot is in place, the log stays as it was, and the next
 * fold waits until the log has grown as much again, instead of rewriting the whole snapshot on
 * every append. Under the LD_PRELOAD fault shim, in a child process; every message is kept.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { JournaledChatFile } from '../../src/store/journaled-chat-file.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FaultControl, buildFaultShim, runUnderShim, type ShimBuild } from '../support/fault-shim.js';

const JOURNAL = fileURLToPath(new URL('../../src/store/journaled-chat-file.ts', import.meta.url));
const APPENDS = 80;

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

describe('a fold whose new log cannot be written (LD_PRELOAD shim)', () => {
  it('is tried again once the log has grown as much again, and loses nothing', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const dir = await tempRoot('dagent-fold-new-log-');
    const control = new FaultControl(dir);
    // Only a new log's temporary (`.chat.log.<pid>.<hex>.tmp`): chat.log and the snapshot's are spared.
    await control.set({ path: '.chat.log.', ops: ['open'], count: -1, errno: 'ENOSPC' });
    const code = `
      const { JournaledChatFile } = await import(${JSON.stringify(JOURNAL)});
      const [dir, appends] = process.argv.slice(1);
      const chat = new JournaledChatFile(dir + '/chat.json', dir + '/chat.log', { foldMinBytes: 2048 });
      await chat.read();
      for (let seq = 0; seq < Number(appends); seq++) {
        const at = new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
        const content = seq + ' ' + 'x'.repeat(300);
        await chat.append([{ id: 'm-' + seq, seq, role: 'user', content, timestamp: at, tokens: 80 }]);
        await chat.settled(); // a fold this append started has run its course
      }
      const { folds, logBytes, snapshotBytes } = chat.stats;
      await chat.close();
      console.log(JSON.stringify({ folds, logBytes, snapshotBytes }));`;
    const stats = (await runUnderShim(shim.library, control, code, [dir, String(APPENDS)])) as {
      folds: number;
      logBytes: number;
      snapshotBytes: number;
    };
    const faulted = await control.faulted();
    expect(faulted.length, 'new logs refused').toBeGreaterThan(0);
    // Every fold installed a snapshot and then failed to make its new log: one try per doubling of
    // the log (4 here), not one per append once the first failed (76 before).
    expect(stats.folds).toBe(faulted.length);
    expect(stats.folds).toBeLessThanOrEqual(8);
    expect(stats.logBytes).toBeGreaterThan(APPENDS * 300); // never replaced: it holds every record
    const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'));
    const read = await chat.read();
    expect(read?.messages.map((m) => m.seq)).toEqual([...Array(APPENDS).keys()]);
    await chat.close();
  });
});
