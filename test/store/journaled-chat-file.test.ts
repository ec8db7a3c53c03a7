/**
 * JournaledChatFile byte by byte: torn and zero-filled tails, damage in the middle, folds, a fold
 * cut short, failed appends, read-only use, and a model-based property against a plain array.
 */
import {
  appendFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { ChatFile, Message } from '../../src/core/types.js';
import {
  JournaledChatFile,
  encodeRecord,
  replayLog,
  type JournaledChatFileOptions,
} from '../../src/store/journaled-chat-file.js';

function message(seq: number, text = `message ${seq}`): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: seq % 3 === 0 ? [{ type: 'text', text }] : text,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 5,
  };
}

const records = (messages: Message[]): Buffer => Buffer.concat(messages.map(encodeRecord));
const seqs = (messages: readonly Message[]): number[] => messages.map((m) => m.seq);

async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSessionError(error)) throw new Error(`expected a SessionError, got ${String(error)}`);
  return error;
}

let dir: string;
let snapshotFile: string;
let logFile: string;
const opened: JournaledChatFile[] = [];

async function openChat(options: JournaledChatFileOptions = {}): Promise<JournaledChatFile> {
  const chat = new JournaledChatFile(snapshotFile, logFile, options);
  opened.push(chat);
  await chat.read();
  return chat;
}

async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dagent-journal-'));
  snapshotFile = path.join(dir, 'chat.json');
  logFile = path.join(dir, 'chat.log');
});

afterEach(async () => {
  for (const chat of opened.splice(0)) await chat.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('replayLog', () => {
  const good = [message(0), message(1, 'ünïcödé 👩‍💻 שלום')];
  const last = message(2, 'the last record, which a crash may cut anywhere ✂️');
  const head = records(good);
  const full = Buffer.concat([head, encodeRecord(last)]);

  it('reads complete records', () => {
    const replay = replayLog(full);
    expect(replay.messages).toEqual([...good, last]);
    expect(replay).toMatchObject({ goodBytes: full.length, records: 3, torn: 0, damagedAt: null });
  });

  it('drops a torn last record cut at every byte offset, and keeps the earlier ones', () => {
    for (let cut = head.length; cut < full.length; cut++) {
      const replay = replayLog(full.subarray(0, cut));
      expect(replay.messages, `cut at ${cut}`).toEqual(good);
      expect(replay.goodBytes, `cut at ${cut}`).toBe(head.length);
      expect(replay.torn, `cut at ${cut}`).toBe(cut > head.length ? 1 : 0);
      expect(replay.damagedAt).toBeNull();
    }
  });

  it('takes zeros for damage, unless they lie inside an incomplete last record', () => {
    const zeroed = Buffer.from(full);
    zeroed.fill(0, head.length); // the last record's bytes replaced by zeros, its length kept
    const newlineKept = Buffer.from(full);
    newlineKept.fill(0, head.length, full.length - 1);
    const inside = Buffer.from(full);
    inside.fill(0, head.length + 25); // zeros from inside the last record to the end: it is complete
    const cases: [Buffer, number][] = [
      [zeroed, 2],
      [newlineKept, 2],
      [inside, 2],
      [Buffer.concat([head, Buffer.alloc(4096)]), 2],
      [Buffer.concat([full, Buffer.alloc(512)]), 3],
    ];
    for (const [tail, survivors] of cases) {
      const replay = replayLog(tail);
      expect(replay.torn).toBe(0);
      expect(replay.damagedAt).toBe(survivors);
      expect(replay.goodBytes).toBe(survivors === 2 ? head.length : full.length);
      expect(replay.messages.length).toBe(survivors);
    }
    // A power loss may leave the unsynced last record's header and zeros where its blocks never
    // reached the disk: fewer bytes than the header declares is still a torn write.
    const record = encodeRecord(last);
    const holed = Buffer.concat([head, record.subarray(0, 30), Buffer.alloc(record.length - 40)]);
    expect(replayLog(holed)).toMatchObject({ torn: 1, damagedAt: null, goodBytes: head.length });
  });

  it('reports a damaged record followed by good ones as damage, not as a torn tail', () => {
    const r1 = encodeRecord(good[1]!);
    const flips = [
      12, // a byte of the JSON: the checksum no longer matches
      3, // a byte of the checksum itself
      8, // the separator
    ];
    for (const at of flips) {
      const damaged = Buffer.from(full);
      const offset = encodeRecord(good[0]!).length + at;
      damaged[offset] = damaged[offset]! ^ 0x01;
      const replay = replayLog(damaged);
      expect(replay.damagedAt, `flip at ${at}`).toBe(1);
      expect(replay.messages).toEqual([good[0]]);
    }
    // A record whose JSON was altered into other valid JSON is caught by its checksum.
    const altered = Buffer.from(full.toString('utf8').replace('"seq":1', '"seq":7'), 'utf8');
    expect(replayLog(altered).damagedAt).toBe(1);
    // A zero-filled block in the middle (newline included) followed by good records is damage too.
    const hole = Buffer.concat([encodeRecord(good[0]!), Buffer.alloc(r1.length), encodeRecord(last)]);
    expect(replayLog(hole).damagedAt).toBe(1);
  });
});

describe('JournaledChatFile', () => {
  it('reads nothing as null and starts empty', async () => {
    const chat = new JournaledChatFile(snapshotFile, logFile);
    opened.push(chat);
    expect(await chat.read()).toBeNull();
    expect(chat.data.messages).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('appends one record per message, and only acknowledged messages are in memory', async () => {
    const chat = await openChat();
    const pending = chat.append([message(0), message(1)]);
    expect(chat.data.messages).toEqual([]);
    await pending;
    expect(seqs(chat.data.messages)).toEqual([0, 1]);
    expect(await readFile(logFile)).toEqual(records([message(0), message(1)]));
    expect(chat.stats).toMatchObject({ logRecords: 2, logBytes: await fileSize(logFile), folds: 0 });
    expect(chat.data).toMatchObject({
      totalMessages: 2,
      oldestMessageTimestamp: message(0).timestamp,
      newestMessageTimestamp: message(1).timestamp,
    });
  });

  it('drops a torn tail cut at every byte offset, counts it, and cuts it off before the next append', async () => {
    const good = [message(0), message(1)];
    const head = records(good);
    const torn = encodeRecord(message(2, 'a record that the crash cut short'));
    const next = message(2, 'written after the restart');
    for (let cut = 0; cut < torn.length; cut++) {
      await writeFile(logFile, Buffer.concat([head, torn.subarray(0, cut)]));
      const chat = await openChat({ durable: false });
      expect(chat.data.messages, `cut at ${cut}`).toEqual(good);
      expect(chat.stats.tornRecordsDropped).toBe(cut > 0 ? 1 : 0);
      // Reading repairs nothing by itself...
      expect(await fileSize(logFile)).toBe(head.length + cut);
      // ...the next append cuts the torn bytes first, so they can never be read as data.
      await chat.append([next]);
      expect(await readFile(logFile), `cut at ${cut}`).toEqual(Buffer.concat([head, encodeRecord(next)]));
      await chat.close();
      const again = await openChat({ durable: false });
      expect(again.data.messages).toEqual([...good, next]);
      expect(again.stats.tornRecordsDropped).toBe(0);
      await again.close();
    }
  });

  it('sets a zero-filled tail aside as damage, and cuts nothing', async () => {
    const bytes = Buffer.concat([records([message(0)]), Buffer.alloc(8192)]);
    await writeFile(logFile, bytes);
    const chat = new JournaledChatFile(snapshotFile, logFile);
    opened.push(chat);
    const error = await rejection(chat.read());
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.details).toMatchObject({ goodRecords: 1, goodBytes: records([message(0)]).length });
    expect(await readFile(error.details.setAsideTo as string)).toEqual(bytes);
  });

  it('sets a damaged log aside and reports CORRUPT_FILE; nothing is overwritten', async () => {
    const bytes = records([message(0), message(1), message(2)]);
    const at = encodeRecord(message(0)).length + 20;
    bytes[at] = bytes[at]! ^ 0x04;
    await writeFile(logFile, bytes);
    await writeFile(snapshotFile, JSON.stringify({ messages: [], snapshotSeq: -1 }));
    const snapshotBefore = await readFile(snapshotFile);

    const readOnly = new JournaledChatFile(snapshotFile, logFile, { readOnly: true });
    const seen = await rejection(readOnly.read());
    expect(seen.code).toBe('CORRUPT_FILE');
    expect(seen.details).toMatchObject({ file: logFile, setAsideTo: null });
    expect(await readFile(logFile)).toEqual(bytes); // read-only: left in place

    const chat = new JournaledChatFile(snapshotFile, logFile);
    opened.push(chat);
    const error = await rejection(chat.read());
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain('checksum does not match at byte');
    expect(error.details).toMatchObject({ goodRecords: 1, goodBytes: encodeRecord(message(0)).length });
    const setAsideTo = error.details.setAsideTo as string;
    expect(path.basename(setAsideTo)).toMatch(/^chat\.log\.corrupt-\d{8}T\d{9}Z$/);
    expect(await readFile(setAsideTo)).toEqual(bytes);
    expect((await readdir(dir)).sort()).toEqual(['chat.json', path.basename(setAsideTo)]);
    expect(await readFile(snapshotFile)).toEqual(snapshotBefore);
  });

  it('folds once the log outgrows both foldMinBytes and the snapshot, and stays readable throughout', async () => {
    const foldMinBytes = 1024;
    const chat = await openChat({ foldMinBytes });
    const all: Message[] = [];
    for (let seq = 0; seq < 150; seq++) {
      const before = chat.stats;
      all.push(message(seq, `payload ${'x'.repeat(seq % 50)}`));
      await chat.append([all[seq]!]);
      await chat.settled(); // the fold runs in the background, off the append's path
      const after = chat.stats;
      const grown = before.logBytes + encodeRecord(all[seq]!).length;
      if (grown > Math.max(foldMinBytes, before.snapshotBytes)) {
        expect(after.folds, `append ${seq}`).toBe(before.folds + 1);
        expect(after.logBytes).toBe(0);
        const snapshot = JSON.parse(await readFile(snapshotFile, 'utf8')) as ChatFile;
        expect(snapshot.snapshotSeq).toBe(seq);
        expect(snapshot.messages).toEqual(all);
        expect(snapshot.totalMessages).toBe(all.length);
      } else {
        expect(after.folds, `append ${seq}`).toBe(before.folds);
        expect(after.logBytes).toBe(grown);
      }
      expect(await fileSize(logFile)).toBe(after.logBytes);
      expect(after.logBytes).toBeLessThanOrEqual(Math.max(foldMinBytes, after.snapshotBytes));
    }
    // The snapshot grows with the session, so folds get rarer: O(1) amortised per append.
    expect(chat.stats.folds).toBeGreaterThanOrEqual(3);
    expect(chat.stats.folds).toBeLessThan(20);
    await chat.close();
    expect((await openChat()).data.messages).toEqual(all);
  });

  it('write(data) folds: a new snapshot, an empty log', async () => {
    const chat = await openChat();
    await chat.append([message(0), message(1), message(2)]);
    await chat.write(chat.data);
    expect(await fileSize(logFile)).toBe(0);
    expect(chat.stats).toMatchObject({ folds: 1, logBytes: 0, logRecords: 0 });
    const snapshot = JSON.parse(await readFile(snapshotFile, 'utf8')) as ChatFile;
    expect(snapshot).toMatchObject({ snapshotSeq: 2, totalMessages: 3 });
    await chat.append([message(3)]);
    await chat.close();
    expect(seqs((await openChat()).data.messages)).toEqual([0, 1, 2, 3]);
  });

  it('replays no duplicates after a crash between the snapshot write and the log truncation', async () => {
    const chat = await openChat();
    await chat.append([0, 1, 2, 3, 4, 5].map((s) => message(s)));
    await chat.close();
    // The fold's first step reached the disk, its second did not.
    const folded = {
      messages: [0, 1, 2, 3, 4, 5].map((s) => message(s)),
      totalMessages: 6,
      oldestMessageTimestamp: null,
      newestMessageTimestamp: null,
      snapshotSeq: 5,
    };
    await writeFile(snapshotFile, JSON.stringify(folded));
    // After the restart, more records follow the stale ones.
    await appendFile(logFile, records([message(6), message(7)]));
    const again = await openChat();
    expect(seqs(again.data.messages)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(again.data.totalMessages).toBe(8);
    await again.append([message(8)]);
    await again.close();
    expect(seqs((await openChat()).data.messages)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('does not bring back dropped messages after dropThrough was cut before the log truncation', async () => {
    const chat = await openChat();
    await chat.append([0, 1, 2, 3, 4].map((s) => message(s)));
    await chat.close();
    // dropThrough(4) wrote its snapshot (every message archived) and then the process died.
    await writeFile(
      snapshotFile,
      JSON.stringify({
        messages: [],
        totalMessages: 0,
        oldestMessageTimestamp: null,
        newestMessageTimestamp: null,
        snapshotSeq: 4,
      }),
    );
    const again = await openChat();
    expect(again.data.messages).toEqual([]);
    expect((await rejection(again.append([message(3)]))).code).toBe('INVALID_MESSAGE');
    await again.append([message(5)]);
    expect(seqs(again.data.messages)).toEqual([5]);
  });

  it('dropThrough keeps messages appended before and after it was called', async () => {
    const chat = await openChat();
    await chat.append([0, 1, 2, 3].map((s) => message(s)));
    const appends = [chat.append([message(4)]), chat.dropThrough(1), chat.append([message(5)])];
    await Promise.all(appends);
    expect(seqs(chat.data.messages)).toEqual([2, 3, 4, 5]);
    await chat.close();
    expect(seqs((await openChat()).data.messages)).toEqual([2, 3, 4, 5]);
  });

  describe('failed appends leave memory and file unchanged', () => {
    it('refuses a seq that does not increase, for the whole batch', async () => {
      const chat = await openChat();
      await chat.append([message(0), message(1)]);
      const bytes = await readFile(logFile);
      for (const batch of [[message(1)], [message(2), message(2)], [message(3), message(2)], [message(-5)]]) {
        const error = await rejection(chat.append(batch));
        expect(error.code).toBe('INVALID_MESSAGE');
        expect(seqs(chat.data.messages)).toEqual([0, 1]);
        expect(await readFile(logFile)).toEqual(bytes);
      }
      await chat.append([message(2)]);
      expect(seqs(chat.data.messages)).toEqual([0, 1, 2]);
    });

    it('chat.log as a directory: read and append reject IO_ERROR with EISDIR, never a raw errno', async () => {
      const chat = await openChat({ durable: false });
      await mkdir(logFile);
      const appended = await rejection(chat.append([message(0)]));
      expect(appended).toMatchObject({
        code: 'IO_ERROR',
        details: { errno: 'EISDIR', file: logFile },
      });
      expect(appended.message).toContain('move the directory out of the way');
      const read = await rejection(chat.read());
      expect(read).toMatchObject({ code: 'IO_ERROR', details: { errno: 'EISDIR' } });
      await chat.close();
    });

    it('a fold that fails does not fail the append that triggered it: that message is durable', async () => {
      const chat = await openChat({ foldMinBytes: 256 });
      // A directory where the snapshot should go: the fold's rename fails.
      await mkdir(path.join(snapshotFile, 'blocker'), { recursive: true });
      const all = Array.from({ length: 12 }, (_, s) => message(s, 'y'.repeat(60)));
      for (const m of all) await chat.append([m]);
      await chat.settled();
      expect(chat.data.messages).toEqual(all);
      expect(chat.stats.folds).toBe(0);
      await chat.close();
      await rm(snapshotFile, { recursive: true });
      const again = await openChat({ foldMinBytes: 256 });
      expect(again.data.messages).toEqual(all);
      await again.append([message(12)]);
      await again.settled();
      expect(again.stats.folds).toBe(1); // the fold succeeds once the way is clear
      expect((await readdir(dir)).sort()).toEqual(['chat.json', 'chat.log']); // no temporary file left
    });
  });

  describe('readOnly', () => {
    it('refuses append, write and dropThrough, and leaves a torn log as it is', async () => {
      const bytes = Buffer.concat([
        records([message(0), message(1)]),
        encodeRecord(message(2)).subarray(0, 10),
      ]);
      await writeFile(logFile, bytes);
      const chat = await openChat({ readOnly: true });
      expect(seqs(chat.data.messages)).toEqual([0, 1]);
      expect(chat.stats.tornRecordsDropped).toBe(1);
      expect((await rejection(chat.append([message(2)]))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(chat.write(chat.data))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(chat.dropThrough(0))).code).toBe('INVALID_ARGUMENT');
      expect(seqs(chat.data.messages)).toEqual([0, 1]);
      expect(await readFile(logFile)).toEqual(bytes);
      expect(await readdir(dir)).toEqual(['chat.log']);
    });
  });
});

// ---- model-based: random appends, folds, drops, crashes and reopens against a plain array ----

interface Model {
  live: Message[];
  nextSeq: number;
}
interface Real {
  chat: JournaledChatFile;
  dir: string;
}
type Command = fc.AsyncCommand<Model, Real>;

const OPTIONS: JournaledChatFileOptions = { durable: false, foldMinBytes: 700 };

async function reopenReal(real: Real): Promise<void> {
  await real.chat.close();
  real.chat = new JournaledChatFile(
    path.join(real.dir, 'chat.json'),
    path.join(real.dir, 'chat.log'),
    OPTIONS,
  );
  await real.chat.read();
}

class AppendCommand implements Command {
  constructor(
    readonly batches: number[],
    readonly size: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const calls = this.batches.map((n) =>
      Array.from({ length: n }, () => message(model.nextSeq++, 'z'.repeat(this.size))),
    );
    // Not awaited one by one: group commit must keep call order.
    await Promise.all(calls.map((batch) => real.chat.append(batch)));
    model.live.push(...calls.flat());
    expect(real.chat.data.messages).toEqual(model.live);
  }
  toString = () => `append(${this.batches.join('+')} × ${this.size}B)`;
}

class FoldCommand implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await real.chat.write(real.chat.data);
    expect(real.chat.stats.logBytes).toBe(0);
    expect(real.chat.data.messages).toEqual(model.live);
  }
  toString = () => 'fold';
}

class DropCommand implements Command {
  constructor(readonly count: number) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const through = model.live[Math.min(this.count, model.live.length) - 1]!.seq;
    await real.chat.dropThrough(through);
    model.live = model.live.filter((m) => m.seq > through);
    expect(real.chat.data.messages).toEqual(model.live);
  }
  toString = () => `dropThrough(first ${this.count})`;
}

class ReopenCommand implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await reopenReal(real);
    expect(real.chat.data.messages).toEqual(model.live);
  }
  toString = () => 'reopen';
}

/** A crash in the middle of an unacknowledged append: part of a record reaches the log. */
class TornCrashCommand implements Command {
  constructor(readonly fraction: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await real.chat.close();
    // The writer cuts a torn tail before it writes again: the log holds at most one.
    const log = path.join(real.dir, 'chat.log');
    await truncate(log, replayLog(await readFile(log).catch(() => Buffer.alloc(0))).goodBytes).catch(
      () => undefined,
    );
    const record = encodeRecord(message(model.nextSeq, 'never acknowledged'));
    const cut = Math.max(1, Math.floor(record.length * this.fraction));
    await appendFile(path.join(real.dir, 'chat.log'), record.subarray(0, Math.min(cut, record.length - 1)));
    await reopenReal(real);
    expect(real.chat.data.messages).toEqual(model.live);
    expect(real.chat.stats.tornRecordsDropped).toBe(1);
  }
  toString = () => `tornCrash(${this.fraction.toFixed(2)})`;
}

/** A crash inside a fold: the snapshot is written, the log is not truncated. */
class FoldCrashCommand implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const data = real.chat.data;
    const lastSeq = data.messages.at(-1)?.seq ?? -1;
    await real.chat.close();
    await writeFile(
      path.join(real.dir, 'chat.json'),
      JSON.stringify({ ...data, snapshotSeq: Math.max(data.snapshotSeq, lastSeq) }),
    );
    await reopenReal(real);
    expect(real.chat.data.messages).toEqual(model.live);
  }
  toString = () => 'foldCrash';
}

describe('JournaledChatFile against a plain array (fc.commands)', () => {
  it('holds exactly the acknowledged, not dropped messages, in order, after any sequence', async () => {
    const commands = [
      fc
        .tuple(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
          fc.integer({ min: 0, max: 300 }),
        )
        .map(([b, s]) => new AppendCommand(b, s)),
      fc.constant(new FoldCommand()),
      fc.integer({ min: 1, max: 6 }).map((n) => new DropCommand(n)),
      fc.constant(new ReopenCommand()),
      fc.double({ min: 0, max: 1, noNaN: true }).map((f) => new TornCrashCommand(f)),
      fc.constant(new FoldCrashCommand()),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        const runDir = await mkdtemp(path.join(os.tmpdir(), 'dagent-journal-model-'));
        const real: Real = {
          dir: runDir,
          chat: new JournaledChatFile(path.join(runDir, 'chat.json'), path.join(runDir, 'chat.log'), OPTIONS),
        };
        try {
          await real.chat.read();
          await fc.asyncModelRun(() => ({ model: { live: [], nextSeq: 0 }, real }), cmds);
          // Whatever happened, a final restart reads the same.
          const live = real.chat.data.messages.slice();
          await reopenReal(real);
          expect(real.chat.data.messages).toEqual(live);
        } finally {
          await real.chat.close();
          await rm(runDir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});
