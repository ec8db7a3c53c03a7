/**
 * Real full disks, no shim: a small tmpfs that the real runtime fills until appends fail with
 * ENOSPC, and a child under `ulimit -f` (RLIMIT_FSIZE: short writes, then EFBIG; Node ignores
 * SIGXFSZ). Checked: every acknowledged message is there, once and unchanged, in the same process
 * and after a restart; every rejection is `IO_ERROR` with the errno in `details`; once space
 * returns, appends go on in the same process.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';
import { mountSmallDisk } from '../support/small-disk.js';
import { FAULT_KEY, LARGE_FROM, contentOf, type ReportedError } from './append-child.js';
import { AppendChild, checkHistory, historyOf, type Reports } from './append-driver.js';

const LIMITS = { maxTokens: 50_000_000 }; // no compaction: this test is about the append path
const DISK_BYTES = Number(process.env.FULL_DISK_BYTES ?? 2 * 1024 * 1024);

function reportOf(error: unknown): ReportedError {
  if (!isSessionError(error)) throw error;
  const { errno, outcome } = error.details;
  return {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    errno: typeof errno === 'string' ? errno : null,
    outcome: typeof outcome === 'string' ? outcome : null,
    raw: null,
  };
}

describe('a real full disk (tmpfs)', () => {
  it(
    'acknowledges nothing it could not write, ' +
      'loses nothing it acknowledged, and resumes once space returns',
    async (t) => {
      const mounted = await mountSmallDisk(DISK_BYTES);
      if (!mounted.ok) return t.skip(mounted.reason);
      const disk = mounted.disk;
      try {
        const root = path.join(disk.dir, 'root');
        await mkdir(root);
        const ballast = path.join(disk.dir, 'ballast');
        await writeFile(ballast, Buffer.alloc(256 * 1024));
        const runtime = await createSessionRuntime({ root, limits: LIMITS });
        const { id } = await runtime.createSession(FAULT_KEY);
        const reports: Reports = { acked: new Map(), failed: new Map() };
        const append = async (index: number) => {
          try {
            const message = await runtime.addMessage(id, { role: 'user', content: contentOf(index) });
            reports.acked.set(index, message.seq);
          } catch (error) {
            reports.failed.set(index, reportOf(error));
          }
        };
        let index = LARGE_FROM;
        // Until the disk is full, and on: 30 more appends, some of them in one group commit.
        while (reports.failed.size < 20) await append(index++);
        await Promise.all(Array.from({ length: 10 }, () => append(index++)));
        console.log(
          `[full-disk] ${reports.acked.size} appends acknowledged ` +
            `before the disk was full, ${reports.failed.size} refused`,
        );
        for (const error of reports.failed.values()) {
          expect(error).toMatchObject({
            code: 'IO_ERROR',
            errno: 'ENOSPC',
            retryable: true,
            outcome: 'not-written',
          });
          expect(error.message).toContain('free space');
        }
        // Reads go on in the same process, and a restart now finds the same.
        const context = 'full disk';
        expect(
          checkHistory(await runtime.getHistory(id), reports, `${context}, same process`).problems,
        ).toEqual([]);
        expect(
          checkHistory(await historyOf(root), reports, `${context}, as a restart reads it`).problems,
        ).toEqual([]);

        // Space returns: the same process appends again.
        await rm(ballast);
        const before = reports.failed.size;
        for (let k = 0; k < 20; k++) await append(index++);
        expect(reports.failed.size, 'appends after space returned').toBe(before);
        await runtime.close();
        const after = checkHistory(await historyOf(root), reports, `${context}, after a restart`);
        expect(after.problems).toEqual([]);
        console.log(
          `[full-disk] ${after.acknowledged} acknowledged messages checked after the restart, ${after.lost} lost`,
        );
      } finally {
        await disk.unmount();
      }
    },
    120_000,
  );
});

describe('a file size limit (ulimit -f)', () => {
  it('rejects with EFBIG, loses nothing acknowledged, and the child survives SIGXFSZ', async () => {
    const root = await tempRoot('dagent-fsize-');
    // 160 blocks of 512 bytes: chat.log (and any snapshot) stops at 80 KiB.
    const child = AppendChild.start({ ...process.env }, 'ulimit -f 160');
    try {
      expect(await child.open(root, 1024 * 1024)).toHaveProperty('opened');
      const failures: ReportedError[] = [];
      for (let from = 0; failures.length < 10 && from < 2_000; from += 50)
        failures.push(...(await child.append(from, 50)));
      expect(failures.length).toBeGreaterThanOrEqual(10);
      for (const error of failures) {
        expect(error).toMatchObject({
          code: 'IO_ERROR',
          errno: 'EFBIG',
          retryable: false,
          outcome: 'not-written',
        });
        expect(error.message).toContain('ulimit -f');
      }
      // Still alive after the limit (SIGXFSZ would have killed it): it closes cleanly.
      await child.close();
    } finally {
      await child.exit();
    }
    const checked = checkHistory(await historyOf(root), child.reports, 'ulimit -f');
    expect(checked.problems).toEqual([]);
    expect(checked.acknowledged).toBeGreaterThan(50);
    // Without the limit, the session takes appends again.
    const runtime = await createSessionRuntime({ root, limits: LIMITS });
    await runtime.addMessage(
      await runtime.getSession(`feature--${FAULT_KEY.featureId}--dev`).then((s) => s.id),
      {
        role: 'user',
        content: contentOf(100_000),
      },
    );
    await runtime.close();
  }, 60_000);
});
