/**
 * A real full disk during compactions and clears: a small tmpfs, filled up to leave 0, 4, 8, ...
 * KiB free before the operation. Whatever step runs out of space, the operation fails with
 * IO_ERROR (or succeeds, if the space ran out only after its commit point), memory and disk stay
 * consistent, and once space is freed the retry commits exactly once. After a restart every
 * acknowledged message is exactly once in archive + live.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk.js';

const MESSAGES = 24;
const FREE_KIB = Array.from({ length: 14 }, (_, i) => i * 4);
const totals = { cases: 0, failed: 0, messagesChecked: 0, lost: 0, duplicated: 0 };

let disk: SmallDisk | null = null;
afterEach(async () => {
  await disk?.unmount();
  disk = null;
});
afterAll(() => {
  console.log(
    `full disk: ${totals.cases} operations on a full tmpfs, ${totals.failed} failed with IO_ERROR and were ` +
      `retried, ${totals.messagesChecked} acknowledged messages checked, ${totals.lost} lost, ` +
      `${totals.duplicated} duplicated`,
  );
});

/** Fills the disk, then frees `free` bytes: the next writes run out of space at some step. */
async function fillLeaving(dir: string, free: number): Promise<string> {
  const filler = path.join(dir, 'filler');
  const handle = await open(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let size = 0;
  try {
    for (;;) {
      const { bytesWritten } = await handle.write(chunk);
      size += bytesWritten;
      if (bytesWritten < chunk.length) break;
    }
  } catch {
    // ENOSPC: full.
  }
  await handle.truncate(Math.max(0, size - free));
  await handle.close();
  return filler;
}

function check(history: Message[], acked: Message[], label: string): void {
  const seqs = history.map((m) => m.seq);
  totals.messagesChecked += acked.length;
  totals.lost += acked.filter((m) => !seqs.includes(m.seq)).length;
  totals.duplicated += seqs.length - new Set(seqs).size;
  expect.soft(JSON.parse(JSON.stringify(history)), label).toEqual(JSON.parse(JSON.stringify(acked)));
}

describe('a real full disk during compaction commits and clears', () => {
  it('fails cleanly at whatever step runs out of space, and the retry commits once', async () => {
    const mounted = await mountSmallDisk(4 * 1024 * 1024);
    if (!mounted.ok) throw new Error(mounted.reason);
    disk = mounted.disk;
    const root = path.join(disk.dir, 'root');
    const options = {
      root,
      estimator: createTokenEstimator({ mode: 'approximate' as const }),
      compaction: { retryBaseMs: 1e9, retryMaxMs: 1e9 },
    };
    let runtime: SessionRuntime = await createSessionRuntime(options);
    const sessions: { id: string; acked: Message[] }[] = [];
    for (const [k, freeKiB] of FREE_KIB.entries()) {
      const operation = (['compact', 'clear', 'reset'] as const)[k % 3]!;
      const { id } = await runtime.createSession({
        type: 'feature',
        agentType: 'dev',
        featureId: `full-${k}`,
      });
      const acked: Message[] = [];
      for (let i = 0; i < MESSAGES; i++) {
        acked.push(
          await runtime.addMessage(id, {
            role: i % 2 ? 'assistant' : 'user',
            content: `${k}.${i} ${'x'.repeat(900)}`,
          }),
        );
      }
      sessions.push({ id, acked });
      const run = () =>
        operation === 'compact'
          ? runtime.compact(id, { keepRecentTokens: 200 })
          : operation === 'clear'
            ? runtime.clearMessages(id)
            : runtime.reset(id);
      const filler = await fillLeaving(disk.dir, freeKiB * 1024);
      totals.cases++;
      const label = `${operation} with ${freeKiB} KiB free`;
      const error = await run().then(
        () => null,
        (e: unknown) => e,
      );
      if (error !== null) {
        expect.soft(isSessionError(error, 'IO_ERROR'), `${label}: ${String(error)}`).toBe(true);
        totals.failed++;
      }
      check(await runtime.getHistory(id), acked, `${label}, full`);
      await rm(filler);
      if (error !== null) await run();
      check(await runtime.getHistory(id), acked, `${label}, after the retry`);
    }
    await runtime.close();
    expect(totals.failed).toBeGreaterThan(0);

    // A restart: every session's history exactly once on disk.
    const store = await JsonFileSessionStore.open({ root });
    for (const { id, acked } of sessions) {
      const dir = store.session(id);
      const loaded = await dir.load();
      check([...(await dir.readArchive()), ...loaded.messages], acked, `${id} after a restart`);
      await dir.close();
    }
    await store.close();
    runtime = await createSessionRuntime(options);
    for (const { id, acked } of sessions)
      check(await runtime.getHistory(id), acked, `${id} in a new runtime`);
    await runtime.close();
  }, 300_000);
});
