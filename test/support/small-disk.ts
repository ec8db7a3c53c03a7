/**
 * A real full disk for tests: a small tmpfs mounted on a fresh directory (CI runs as root). Where
 * mounting is not allowed, {@link mountSmallDisk} resolves to the reason, so that a test can say so.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A mounted small disk; `unmount()` removes it and its directory. */
export interface SmallDisk {
  dir: string;
  bytes: number;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) on a fresh directory. */
export async function mountSmallDisk(
  bytes: number,
): Promise<{ ok: true; disk: SmallDisk } | { ok: false; reason: string }> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `a tmpfs needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'mounting a tmpfs needs root (CI runs as root)' };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dagent-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { ok: false, reason: `mount -t tmpfs failed: ${(error as Error).message}` };
  }
  return {
    ok: true,
    disk: {
      dir,
      bytes,
      async unmount() {
        await run('umount', ['-l', dir]).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    },
  };
}
