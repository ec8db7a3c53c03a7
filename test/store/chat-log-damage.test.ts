/**
 * Byte-level damage to chat.log, at many positions: a bit flip, a zero-filled stretch or tail, a
 * truncation. The rule under test: only an incomplete last record is a torn write, dropped quietly
 * (and counted); anything else is damage, reported as `CORRUPT_FILE` with the file set aside byte
 * for byte, and no byte that was not proven torn is ever cut. Old logs (records without a length)
 * still load, and new records are appended after them.
 */
import { cp, readFile, readdir, rename, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { JournaledChatFile, encodeRecord, replayLog } from '../../src/store/journaled-chat-file.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/store/v1-session/', import.meta.url));

function message(seq: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: `message ${seq}: ${'ünïcode 🚀 '.repeat(3 + seq)}`,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 5,
  };
}

const MESSAGES = [0, 1, 2, 3, 4, 5].map(message);
const RECORDS = MESSAGES.map(encodeRecord);
const LOG = Buffer.concat(RECORDS);
/** Where each record starts. */
const STARTS = RECORDS.map((_, k) => RECORDS.slice(0, k).reduce((n, r) => n + r.length, 0));

/** Byte offsets inside a record: its first bytes (header), the JSON, its last two bytes. */
function offsetsIn(k: number): number[] {
  const length = RECORDS[k]!.length;
  return [0, 4, 9, 12, 20, Math.floor(length / 2), length - 2, length - 1].map((o) => STARTS[k]! + o);
}

async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSessionError(error)) throw new Error(`expected a SessionError, got ${String(error)}`);
  return error;
}

/** Opens `bytes` as chat.log (no snapshot) and returns what a writer's read() does with it. */
async function readWriter(
  bytes: Buffer,
): Promise<{ dir: string; chat: JournaledChatFile; error?: SessionError }> {
  const dir = await tempRoot('dagent-damage-');
  await writeFile(path.join(dir, 'chat.log'), bytes);
  const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
    durable: false,
  });
  const error = await chat.read().then(
    () => undefined,
    (e: unknown) => (isSessionError(e) ? e : Promise.reject(e)),
  );
  return { dir, chat, ...(error ? { error } : {}) };
}

/**
 * Damage is reported, never dropped: `CORRUPT_FILE`, the log set aside byte for byte (nothing cut),
 * the error saying how many records verify; following its advice keeps exactly those records.
 */
async function expectDamage(bytes: Buffer, goodRecords: number, context: string): Promise<void> {
  const { dir, chat, error } = await readWriter(bytes);
  expect(error?.code, `${context}: read() must report the damage`).toBe('CORRUPT_FILE');
  const details = error!.details;
  expect(details.goodRecords, context).toBe(goodRecords);
  expect(details.goodBytes, context).toBe(STARTS[goodRecords] ?? LOG.length);
  const setAsideTo = details.setAsideTo as string;
  expect(await readFile(setAsideTo), `${context}: the set-aside log is the damaged bytes, whole`).toEqual(
    bytes,
  );
  expect(await readdir(dir), context).toEqual([path.basename(setAsideTo)]);
  // The advice: cut the set-aside file to goodBytes and move it back.
  expect(error!.message).toContain(`truncate -s ${String(details.goodBytes)} ${setAsideTo}`);
  await truncate(setAsideTo, details.goodBytes as number);
  await rename(setAsideTo, path.join(dir, 'chat.log'));
  await chat.read();
  expect(chat.data.messages, context).toEqual(MESSAGES.slice(0, goodRecords));
  await chat.close();
}

describe('chat.log damage is told from a torn write', () => {
  it('a bit flip anywhere in any record, the last one included, is damage', async () => {
    for (const k of [0, 2, 5]) {
      for (const at of offsetsIn(k)) {
        const bytes = Buffer.from(LOG);
        bytes[at] = bytes[at]! ^ 0x10;
        await expectDamage(bytes, k, `bit flip at byte ${at} (record ${k})`);
      }
    }
  });

  it('a zero-filled tail of the file is damage, wherever it starts', async () => {
    for (const k of [0, 3, 5]) {
      for (const at of offsetsIn(k)) {
        const bytes = Buffer.from(LOG);
        bytes.fill(0, at);
        await expectDamage(bytes, k, `zeros from byte ${at} (record ${k}) to the end`);
      }
    }
    await expectDamage(Buffer.concat([LOG, Buffer.alloc(4096)]), 6, 'zeros after the last record');
  });

  it('a zero-filled stretch inside the log is damage', async () => {
    for (const k of [1, 4, 5]) {
      const bytes = Buffer.from(LOG);
      bytes.fill(0, STARTS[k]! + 5, STARTS[k]! + 21);
      await expectDamage(bytes, k, `16 zeros inside record ${k}`);
    }
  });

  it(
    'a truncation that cuts a record leaves an incomplete last record: ' +
      'dropped, counted, and only it is cut',
    async () => {
      for (const k of [0, 2, 5]) {
        for (const at of offsetsIn(k).filter((o) => o > STARTS[k]!)) {
          const bytes = LOG.subarray(0, at);
          const { dir, chat, error } = await readWriter(Buffer.from(bytes));
          const context = `cut at byte ${at} (inside record ${k})`;
          expect(error, context).toBeUndefined();
          expect(chat.data.messages, context).toEqual(MESSAGES.slice(0, k));
          expect(chat.stats.tornRecordsDropped, `${context}: the drop is counted`).toBe(1);
          // The next append cuts exactly the incomplete record, nothing before it.
          await chat.append([message(k)]);
          expect(await readFile(path.join(dir, 'chat.log')), context).toEqual(LOG.subarray(0, STARTS[k + 1]));
          await chat.close();
        }
      }
    },
  );

  it('a torn write after a power loss (header there, zeros where its blocks never landed) is still torn', async () => {
    const record = RECORDS[5]!;
    const bytes = Buffer.concat([
      LOG.subarray(0, STARTS[5]),
      record.subarray(0, 40),
      Buffer.alloc(record.length - 60),
    ]);
    const { chat, error } = await readWriter(bytes);
    expect(error).toBeUndefined();
    expect(chat.data.messages).toEqual(MESSAGES.slice(0, 5));
    expect(chat.stats.tornRecordsDropped).toBe(1);
    await chat.close();
  });

  it('a read-only reader reports the same damage and leaves the file in place', async () => {
    const dir = await tempRoot('dagent-damage-');
    const bytes = Buffer.from(LOG);
    bytes[STARTS[5]! + 30] = bytes[STARTS[5]! + 30]! ^ 0x01;
    await writeFile(path.join(dir, 'chat.log'), bytes);
    const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
      readOnly: true,
    });
    const error = await rejection(chat.read());
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.details).toMatchObject({ setAsideTo: null, goodRecords: 5 });
    expect(await readFile(path.join(dir, 'chat.log'))).toEqual(bytes);
  });
});

describe('logs written before records had a length', () => {
  /** The fixture's log: records `<crc> <json>\n`, no length. */
  async function legacyLog(): Promise<Buffer> {
    return readFile(path.join(FIXTURE, 'chat.log'));
  }

  it('the v1 fixture loads, and new records are appended after the old ones', async () => {
    const root = await tempRoot('dagent-legacy-');
    const target = path.join(root, '.dagent', 'sessions', 'feature--f1--dev');
    await cp(FIXTURE, target, { recursive: true });
    const store = await JsonFileSessionStore.open({ root, durable: false });
    const dir = store.session('feature--f1--dev');
    const loaded = await dir.load();
    const before = replayLog(await legacyLog()).messages;
    expect(before.length).toBeGreaterThan(0);
    expect(loaded.messages.slice(-before.length)).toEqual(before);
    const next = { ...message(before.at(-1)!.seq + 1), seq: before.at(-1)!.seq + 1 };
    await dir.appendMessages([next]);
    await dir.close();
    await store.close();
    const log = await readFile(path.join(target, 'chat.log'));
    expect(log.subarray(0, (await legacyLog()).length)).toEqual(await legacyLog());
    const again = await JsonFileSessionStore.open({ root, readOnly: true });
    const reread = await again.session('feature--f1--dev').load();
    expect(reread.messages.at(-1)).toEqual(next);
    expect(reread.tornRecordsDropped).toBe(0);
    await again.close();
  });

  it(
    'an old record cut short at the end is torn; ' +
      'an old complete record that fails its checksum is damage',
    async () => {
      const log = await legacyLog();
      const lastStart = log.lastIndexOf(0x0a, log.length - 2) + 1;
      const records = replayLog(log).records;
      const cut = await readWriter(log.subarray(0, log.length - 5));
      expect(cut.error).toBeUndefined();
      expect(cut.chat.data.messages.length).toBe(records - 1);
      expect(cut.chat.stats.tornRecordsDropped).toBe(1);
      const flipped = Buffer.from(log);
      flipped[lastStart + 20] = flipped[lastStart + 20]! ^ 0x02;
      const damaged = await readWriter(flipped);
      expect(damaged.error?.code).toBe('CORRUPT_FILE');
      expect(damaged.error?.details).toMatchObject({ goodRecords: records - 1, goodBytes: lastStart });
      expect((await stat(damaged.error?.details.setAsideTo as string)).size).toBe(log.length);
    },
  );
});
