/**
 * A background fold outside the journal's queue: the new log is written and synced while appends
 * go on, only its last records and its rename wait in the queue, and its handle becomes the log's.
 * Each step is held in flight through the sync hook (`reportingSyncs`), with appends made meanwhile,
 * and the power cut there (`createPowerLoss`): every acknowledged message is found once.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPowerLoss, type PowerLoss } from '../../src/conformance/power-loss.js';
import type { Message } from '../../src/core/types.js';
import { JournaledChatFile } from '../../src/store/journaled-chat-file.js';
import { reportingSyncs } from '../../src/store/sync-report.js';
import { tempRoot } from '../helpers/temp-root.js';

function message(seq: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: `${seq} ${'x'.repeat(300)}`,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 80,
  };
}

const seqs = (messages: readonly Message[]): number[] => messages.map((m) => m.seq);

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Resolves once no file-system request has been in flight for two turns of the event loop. */
async function idle(): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    await new Promise((resolve) => setImmediate(resolve));
    const busy = process.getActiveResourcesInfo().some((name) => /^FSReq|CloseReq$/.test(name));
    quiet = busy ? 0 : quiet + 1;
  }
}

/** Whether `append` is acknowledged before the store has nothing left to do without it. */
const acknowledgedAlone = (append: Promise<void>): Promise<boolean> =>
  Promise.race([append.then(() => true), idle().then(() => false)]);

/**
 * One session folding every 512 bytes, its syncs reported to `model` (if any), with three of a
 * fold's syncs held until released: the snapshot's temporary, the new log's temporary (its first
 * sync), and the directory's sync after it (the new log's rename).
 */
async function foldingSession(dir: string, model?: PowerLoss) {
  const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
    foldMinBytes: 512,
  });
  await chat.read();
  const holds = { snapshot: gate(), log: gate(), entry: gate() };
  const reached = { snapshot: gate(), log: gate(), entry: gate() };
  let logSynced = false;
  let entrySynced = false;
  const hooks = {
    synced(kind: 'file' | 'directory', file: string): void | Promise<void> {
      const name = path.basename(file);
      let hold: keyof typeof holds | null = null;
      if (kind === 'file' && /^\.chat\.json\..+\.tmp$/.test(name)) hold = 'snapshot';
      else if (kind === 'file' && /^\.chat\.log\..+\.tmp$/.test(name) && !logSynced) hold = 'log';
      else if (kind === 'directory' && logSynced && !entrySynced) hold = 'entry';
      if (hold === 'log') logSynced = true;
      if (hold === 'entry') entrySynced = true;
      if (hold === null) return model?.synced(kind, file);
      reached[hold].open();
      return holds[hold].opened.then(() => model?.synced(kind, file));
    },
  };
  const append = (seq: number) => reportingSyncs(hooks, () => chat.append([message(seq)]));
  const reload = async () => {
    const again = new JournaledChatFile(chat.snapshotFile, chat.logFile);
    await again.read();
    await again.close();
    return again;
  };
  /**
   * Appends 0 and 1 (a fold begins), 2 while the snapshot's sync is held, then lets the snapshot go
   * on and returns once the new log's first sync is held.
   */
  const untilNewLogSync = async () => {
    await append(0);
    await append(1); // the log passes 512 bytes: a fold begins
    await reached.snapshot.opened;
    await append(2); // while the snapshot is synced: in the new log's first part
    holds.snapshot.open();
    await reached.log.opened;
  };
  return { chat, holds, reached, append, reload, untilNewLogSync };
}

describe('a background fold outside the queue', () => {
  it('the append after a fold writes through the handle the fold renamed: no directory sync of its own', async () => {
    const dir = await tempRoot();
    const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
      foldMinBytes: 512,
    });
    await chat.read();
    for (const seq of [0, 1, 2]) await chat.append([message(seq)]);
    await chat.settled();
    expect(chat.stats.folds).toBe(1);
    const syncs: string[] = [];
    const hooks = {
      synced: (kind: string, file: string) => void syncs.push(`${kind} ${path.basename(file)}`),
    };
    await reportingSyncs(hooks, () => chat.append([message(3)]));
    expect(syncs).toEqual(['file chat.log']);
    await chat.close();
  });

  it('appends made while the new log is prepared are acknowledged meanwhile, and land in it once', async () => {
    const { chat, holds, append, reload, untilNewLogSync } = await foldingSession(await tempRoot());
    await untilNewLogSync();
    // While the new log's first part is synced: outside the queue, the append does not wait for it.
    expect(await acknowledgedAlone(append(3))).toBe(true);
    holds.log.open();
    holds.entry.open();
    await chat.settled();
    expect(chat.stats).toMatchObject({ folds: 1, logRecords: 2 });
    const folded = await reload();
    expect([seqs(folded.data.messages), folded.data.snapshotSeq]).toEqual([[0, 1, 2, 3], 1]);
    expect(folded.stats.logRecords).toBe(2); // 2, and 3 (written in the queue, before the rename)
    await append(4); // through the renamed handle
    await chat.close();
    expect(seqs((await reload()).data.messages)).toEqual([0, 1, 2, 3, 4]);
  });

  it('the power lost while the new log is synced: every acknowledged message once', async () => {
    const dir = await tempRoot();
    const model = createPowerLoss(dir);
    try {
      const { chat, holds, append, reload, untilNewLogSync } = await foldingSession(dir, model);
      await untilNewLogSync();
      await append(3);
      model.crash();
      holds.log.open();
      holds.entry.open();
      await chat.settled();
      await chat.close();
      await model.apply();
      expect(seqs((await reload()).data.messages)).toEqual([0, 1, 2, 3]);
    } finally {
      model.release();
    }
  });

  it('the power lost before the new log is renamed durably: the old log holds it all', async () => {
    const dir = await tempRoot();
    const model = createPowerLoss(dir);
    try {
      const { chat, holds, reached, append, reload, untilNewLogSync } = await foldingSession(dir, model);
      await untilNewLogSync();
      await append(3);
      holds.log.open();
      await reached.entry.opened; // renamed; its directory's sync held
      const during = append(4);
      expect(await acknowledgedAlone(during)).toBe(false);
      model.crash();
      holds.entry.open();
      await during;
      await chat.settled();
      await chat.close();
      await model.apply();
      const held = seqs((await reload()).data.messages);
      expect([
        [0, 1, 2, 3],
        [0, 1, 2, 3, 4],
      ]).toContainEqual(held);
    } finally {
      model.release();
    }
  });
});
