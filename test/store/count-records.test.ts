/**
 * Messages appended before their exact count is known: written without `tokens`, their count
 * written later in a count record (with the next append, or at close). A persisted count is always
 * exact: a load gives each such message its count, or reports it uncounted (holding its upper
 * bound) when a crash lost the count, also after a fold.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { textTokenBound } from '../../src/core/token-bound.js';
import type { Message } from '../../src/core/types.js';
import { countsProblem } from '../../src/store/archive-rules.js';
import {
  encodeCountRecord,
  encodeRecord,
  encodeUncountedRecord,
  replayLog,
} from '../../src/store/chat-log-format.js';
import { JournaledChatFile } from '../../src/store/journaled-chat-file.js';

function message(seq: number, tokens: number): Message {
  const text = `message ${seq} ${'é'.repeat(seq)}`;
  return { id: `m-${seq}`, seq, role: 'user', content: text, timestamp: '2026-01-01T00:00:00.000Z', tokens };
}

let dir: string;
const opened: JournaledChatFile[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'count-records-'));
});
afterEach(async () => {
  for (const chat of opened.splice(0)) await chat.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function open(options: { foldMinBytes?: number } = {}): Promise<JournaledChatFile> {
  const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), options);
  opened.push(chat);
  await chat.read();
  return chat;
}

const tokensOf = (chat: JournaledChatFile) => chat.data.messages.map((m) => [m.seq, m.tokens]);

describe('count records', () => {
  it('writes an uncounted message without tokens, its count with the next append; a load reads it exact', async () => {
    const chat = await open();
    const bound = textTokenBound(message(0, 0).content)!;
    await chat.append([message(0, bound)], [0]);
    const log = await readFile(path.join(dir, 'chat.log'));
    expect(replayLog(log).messages[0]).toMatchObject({ seq: 0, tokens: bound });
    expect(log.toString('utf8')).not.toContain('"tokens"'); // the bound is no count: not written
    expect([...chat.uncounted]).toEqual([0]);

    chat.recordCounts([{ seq: 0, tokens: 7 }]);
    expect(tokensOf(chat)).toEqual([[0, 7]]);
    expect([...chat.uncounted]).toEqual([]);
    await chat.append([message(1, 9)]);
    const replay = replayLog(await readFile(path.join(dir, 'chat.log')));
    expect(replay.records).toBe(3); // message, count record, message: one write for the last two
    expect([...replay.counts]).toEqual([[0, 7]]);

    const again = await open();
    expect(tokensOf(again)).toEqual([
      [0, 7],
      [1, 9],
    ]);
    expect([...again.uncounted]).toEqual([]);
  });

  it('writes counts still pending at close', async () => {
    const chat = await open();
    await chat.append([message(0, 100), message(1, 100)], [0, 1]);
    chat.recordCounts([
      { seq: 0, tokens: 3 },
      { seq: 1, tokens: 4 },
    ]);
    await chat.close();
    const again = await open();
    expect(tokensOf(again)).toEqual([
      [0, 3],
      [1, 4],
    ]);
  });

  it('after a crash that lost the count, reports the message uncounted with its upper bound', async () => {
    const chat = await open();
    await chat.append([message(0, 1), message(3, 999)], [3]);
    // The process dies here: the count of seq 3 was never recorded.
    const again = await open();
    expect(tokensOf(again)).toEqual([
      [0, 1],
      [3, textTokenBound(message(3, 0).content)],
    ]);
    expect([...again.uncounted]).toEqual([3]);
    // Counted again by the caller, it is exact from then on.
    again.recordCounts([{ seq: 3, tokens: 6 }]);
    await again.close();
    expect(tokensOf(await open())).toEqual([
      [0, 1],
      [3, 6],
    ]);
  });

  it('folds an uncounted message into the snapshot without tokens; a later count record applies to it', async () => {
    const chat = await open({ foldMinBytes: 1 });
    // The log passes the (empty) snapshot: a fold runs in the background.
    await chat.append([message(0, 50), message(1, 2)], [0]);
    await chat.settled();
    const snapshot = JSON.parse(await readFile(path.join(dir, 'chat.json'), 'utf8')) as {
      messages: Message[];
    };
    expect(snapshot.messages.map((m) => m.tokens)).toEqual([undefined, 2]);
    expect([...(await open()).uncounted]).toEqual([0]);

    chat.recordCounts([{ seq: 0, tokens: 5 }]);
    await chat.append([message(2, 2)]);
    await chat.settled();
    expect(tokensOf(await open())).toEqual([
      [0, 5],
      [1, 2],
      [2, 2],
    ]);
  });

  it('a count record is a record: checksummed, and a changed one is damage, never dropped', () => {
    const good = Buffer.concat([encodeRecord(message(0, 1)), encodeCountRecord([[0, 4]])]);
    expect(replayLog(good)).toMatchObject({ records: 2, damage: null });
    const changed = Buffer.from(good);
    changed[changed.length - 4]! ^= 1; // a bit flip in the count record's JSON
    expect(replayLog(changed)).toMatchObject({ records: 1, damagedAt: 1 });
    expect(replayLog(changed).damage).toContain('checksum');
    // Cut short (a torn write), it is torn, as any last record.
    expect(replayLog(good.subarray(0, good.length - 3))).toMatchObject({ records: 1, torn: 1, damage: null });
  });

  it('reads back every count a store takes, and only those: one rule for both (isTokenCount)', () => {
    const tokens = [0, 4, 12.5, 1e9, -1, -0.5, NaN, Infinity, -Infinity];
    for (const t of tokens) {
      const taken = countsProblem([{ seq: 0, tokens: t }]) === null;
      const replay = replayLog(
        Buffer.concat([encodeUncountedRecord(message(0, 1)), encodeCountRecord([[0, t]])]),
      );
      expect({ t, taken, read: replay.damage === null }).toEqual({ t, taken, read: taken });
      if (taken) expect(replay.counts.get(0)).toBe(t);
    }
  });

  it('still reads a count record for a seq never appended (-1), as a store wrote it before it checked counts', () => {
    expect(countsProblem([{ seq: -1, tokens: 3 }])).not.toBeNull(); // refused now
    const log = Buffer.concat([encodeUncountedRecord(message(0, 1)), encodeCountRecord([[-1, 3]])]);
    const replay = replayLog(log);
    expect(replay).toMatchObject({ records: 2, damage: null });
    expect([...replay.uncounted]).toEqual([0]); // it matches no message
  });
});
