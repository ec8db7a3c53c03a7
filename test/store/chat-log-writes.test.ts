/**
 * An append's write under real faults, on both of its paths: a small batch is written on the main
 * thread (`writeAllSync`), a batch over `SYNC_WRITE_MAX` through the thread pool (`writeAll`). On
 * each, a short write on a full disk, a full disk that frees up, EIO on the write and EIO on the
 * fdatasync: a rejected append is cut back (nothing of it stays in the log), an acknowledged one is
 * all there, and the log appends again after a fault that passed. And an append without an
 * fdatasync (`durable: false`) still lets the event loop turn.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { SYNC_WRITE_MAX } from '../../src/store/durable-fs.js';
import { JournaledChatFile, encodeRecord } from '../../src/store/journaled-chat-file.js';
import { tempRoot } from '../helpers/temp-root.js';
import {
  FaultControl,
  buildFaultShim,
  runUnderShim,
  type Fault,
  type ShimBuild,
} from '../support/fault-shim.js';

const JOURNAL = fileURLToPath(new URL('../../src/store/journaled-chat-file.ts', import.meta.url));

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

/** Message `seq` of about `bytes` bytes of JSON (the child builds the same ones). */
function message(seq: number, bytes: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: 'user',
    content: `${seq}: ${'ünïcode 🚀 '.repeat(Math.ceil(bytes / 16))}`,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 5,
  };
}

/** What the child saw of appends 0 (clean), 1 (under the fault) and 2 (after it, unless it lasts). */
interface Outcomes {
  first: string;
  faulted: string;
  after: string | null;
}

/**
 * In a child under the shim: appends message 0 (its write is the first on chat.log, never
 * faulted), then message 1 under `fault`, then message 2 unless the fault lasts.
 */
async function appendUnderFault(dir: string, fault: Fault, bytes: number): Promise<Outcomes> {
  if (!shim.ok) throw new Error(shim.reason);
  const control = new FaultControl(dir);
  await control.set(fault);
  const code = `
    const { JournaledChatFile } = await import(${JSON.stringify(JOURNAL)});
    const [dir, bytes, lasts] = process.argv.slice(1);
    const message = ${message.toString()};
    const chat = new JournaledChatFile(dir + '/chat.json', dir + '/chat.log', { foldMinBytes: 1 << 30 });
    await chat.read();
    const outcome = (p) => p.then(() => 'ok', (e) => [e.code, e.details?.errno, e.details?.outcome].join(' '));
    const first = await outcome(chat.append([message(0, Number(bytes))]));
    const faulted = await outcome(chat.append([message(1, Number(bytes))]));
    const after = lasts === 'lasts' ? null : await outcome(chat.append([message(2, Number(bytes))]));
    await chat.close();
    console.log(JSON.stringify({ first, faulted, after }));`;
  const outcomes = await runUnderShim(shim.library, control, code, [
    dir,
    String(bytes),
    fault.count === -1 ? 'lasts' : '',
  ]);
  expect((await control.faulted()).length, 'calls the shim failed').toBeGreaterThan(0);
  return outcomes as Outcomes;
}

const sizes: [string, number][] = [
  ['a small append (written on the main thread)', 1024],
  ['a large append (written through the thread pool)', SYNC_WRITE_MAX + 16 * 1024],
];

const faults: [string, Fault, string][] = [
  [
    'a short write, then the disk stays full',
    { path: 'chat.log', nth: 2, count: -1, short: true, errno: 'ENOSPC' },
    'IO_ERROR ENOSPC not-written',
  ],
  [
    'a short write, then space returns',
    { path: 'chat.log', nth: 2, count: 2, short: true, errno: 'ENOSPC' },
    'ok',
  ],
  ['EIO on the write', { path: 'chat.log', nth: 2, errno: 'EIO' }, 'IO_ERROR EIO not-written'],
  [
    'EIO on the fdatasync',
    { path: 'chat.log', ops: ['fsync'], nth: 2, errno: 'EIO' },
    'IO_ERROR EIO not-written',
  ],
];

describe('an append under faults, small and large (LD_PRELOAD shim)', () => {
  for (const [sizeName, bytes] of sizes) {
    it.for(faults)(`${sizeName}, %s: rejected and cut back, or whole`, async ([, fault, expected], t) => {
      if (!shim.ok) return t.skip(shim.reason);
      const dir = await tempRoot('dagent-log-writes-');
      const outcomes = await appendUnderFault(dir, fault, bytes);
      expect(outcomes.first).toBe('ok');
      expect(outcomes.faulted).toBe(expected);
      const acknowledged = [message(0, bytes)];
      if (expected === 'ok') acknowledged.push(message(1, bytes));
      if (fault.count !== -1) {
        expect(outcomes.after).toBe('ok');
        acknowledged.push(message(2, bytes));
      }
      // Byte for byte: the acknowledged records and nothing of the rejected one.
      const log = await readFile(path.join(dir, 'chat.log'));
      expect(log.equals(Buffer.concat(acknowledged.map(encodeRecord)))).toBe(true);
      const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'));
      expect((await chat.read())?.messages).toEqual(acknowledged);
      await chat.close();
    });
  }

  it('the large case is large', () => {
    expect(encodeRecord(message(1, SYNC_WRITE_MAX + 16 * 1024)).length).toBeGreaterThan(SYNC_WRITE_MAX);
    expect(encodeRecord(message(1, 1024)).length).toBeLessThan(SYNC_WRITE_MAX);
  });
});

describe('an append without an fdatasync (durable: false)', () => {
  it('lets the event loop turn before it resolves, as one through the thread pool does', async () => {
    const dir = await tempRoot('dagent-log-writes-');
    const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
      durable: false,
    });
    await chat.read();
    await chat.append([message(0, 1024)]); // opens the log
    // Written inline with nothing to wait for, an append would resolve in microtasks only, and a
    // caller appending in a loop would hold back timers, I/O and other sessions until it stopped.
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    await chat.append([message(1, 1024)]);
    expect(turned).toBe(true);
    await chat.close();
    expect(
      (await readFile(path.join(dir, 'chat.log'))).equals(
        Buffer.concat([0, 1].map((s) => encodeRecord(message(s, 1024)))),
      ),
    ).toBe(true);
  });
});
