/**
 * The writer of test/e2e/reader-race.test.ts: appends to a JournaledChatFile on `DIR` as fast as
 * it can and folds every few appends (keeping the last {@link KEEP} messages), so that snapshot
 * and log are swapped under a reader in another process all the time. It reports `ack <lastSeq>`
 * on stdout (write(2), before it goes on) once an append resolved, and stops when stdin closes.
 *
 * Run: `node --import tsx test/e2e/fold-writer-child.ts` with DIR in the environment.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Message } from '../../src/core/types.js';
import { JournaledChatFile } from '../../src/store/journaled-chat-file.js';
import { say } from './say.js';

/** Appends between two folds. */
export const APPENDS_PER_FOLD = 3;
/** Messages each fold keeps; the older ones are dropped (as if archived). */
export const KEEP = 300;

/** The message of a seq, as the reader expects it. */
export function raceMessage(seq: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: `message ${seq} ${'x'.repeat(seq % 200)}`,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 5,
  };
}

async function main(): Promise<void> {
  const dir = process.env.DIR;
  if (!dir) throw new Error('DIR is not set');
  let running = true;
  process.stdin.on('close', () => (running = false)).resume();
  const chat = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
    foldMinBytes: 1 << 30, // folds come from write() below, every few appends
    // The race is about what a reader sees in the page cache; without fdatasync the writer folds
    // many times per read.
    durable: false,
  });
  await chat.read();
  let seq = 0;
  for (let n = 1; running; n++) {
    const batch = Array.from({ length: 1 + (n % 3) }, () => raceMessage(seq++));
    await chat.append(batch);
    say(`ack ${seq - 1}`);
    // A fold that also drops all but the last KEEP messages, so that the snapshot stays small.
    if (n % APPENDS_PER_FOLD === 0) {
      await chat.dropThrough(seq - 1 - KEEP);
      await chat.settled(); // the drop's fold runs in the background: swapped once it is done
      say('fold');
    }
  }
  await chat.close();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `fold-writer-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
