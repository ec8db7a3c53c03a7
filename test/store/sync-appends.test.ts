/**
 * `syncAppends: 'calling-thread'` at the journal: appends still land whole and in order, and
 * appends awaited one after another let the event loop turn between them (timers, I/O and the
 * counting worker's answers are not held back for the whole sequence), as in the default mode.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { JournaledChatFile } from '../../src/store/journaled-chat-file.js';
import { tempRoot } from '../helpers/temp-root.js';

const message = (seq: number): Message => ({
  id: `m-${seq}`,
  seq,
  role: 'user',
  content: `message ${seq} ${'x'.repeat(200)}`,
  timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
  tokens: 5,
});

describe.each(['calling-thread', 'thread-pool'] as const)('syncAppends %s', (syncAppends) => {
  it('the event loop turns between appends awaited one after another', async () => {
    const dir = await tempRoot('dagent-sync-appends-');
    const options = { foldMinBytes: 1 << 30, syncAppends };
    const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), options);
    await chat.read();
    await chat.append([message(0)]); // the log's first append opens it (through the pool)
    // Counts the event loop's turns: the ticker runs once in each turn's check phase.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const APPENDS = 20;
    for (let seq = 1; seq <= APPENDS; seq++) await chat.append([message(seq)]);
    ticking = false;
    expect(turns).toBeGreaterThanOrEqual(APPENDS);
    await chat.close();

    const again = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), options);
    const data = await again.read();
    expect(data?.messages.map((m) => m.seq)).toEqual(Array.from({ length: APPENDS + 1 }, (_, i) => i));
    await again.close();
  });
});
