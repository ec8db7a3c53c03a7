/**
 * The durable-write primitives under real faults: an atomic replace on a full disk (the fault
 * shim's short write, and a real full tmpfs), a failed fsync or rename, directory fsync refused by
 * the filesystem, links and directories where files should be, and a session directory that leads
 * outside the root. Errors leave as `SessionError`s with the errno in `details`.
 */
import { mkdir, readFile, readdir, realpath, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import { assertInsideRoot, atomicWriteFile, makeDir, readTextOrNull } from '../../src/store/durable-fs.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import {
  FaultControl,
  buildFaultShim,
  runUnderShim,
  type Fault,
  type ShimBuild,
} from '../support/fault-shim.js';
import { mountSmallDisk } from '../support/small-disk.js';

const DURABLE_FS = fileURLToPath(new URL('../../src/store/durable-fs.ts', import.meta.url));

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSessionError(error)) throw new Error(`expected a SessionError, got ${String(error)}`);
  return error;
}

/**
 * Runs `call` (an expression using `fs`, the durable-fs module, and `args`) in a child under the
 * shim with `fault`; resolves to `'ok'` or the rejection's code, errno and retryable.
 */
async function underFault(dir: string, fault: Fault, call: string, args: string[]): Promise<unknown> {
  if (!shim.ok) throw new Error(shim.reason);
  const control = new FaultControl(dir);
  await control.set(fault);
  const code = `
    const fs = await import(${JSON.stringify(DURABLE_FS)});
    const args = process.argv.slice(1);
    try { await (${call}); console.log(JSON.stringify('ok')); }
    catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.details?.errno, retryable: e.retryable })); }`;
  return runUnderShim(shim.library, control, code, args);
}

describe('atomicWriteFile under faults', () => {
  const big = 'é'.repeat(200_000); // 400 KB: more than one write of the temporary file
  const write = 'fs.atomicWriteFile(args[0], args[1] === "big" ? "é".repeat(200000) : args[1])';

  it.for<[string, Fault, 'ok' | 'fail']>([
    [
      'a short write, then the disk stays full',
      { path: '.target.json.', count: -1, short: true, errno: 'ENOSPC' },
      'fail',
    ],
    [
      'a short write, then space returns',
      { path: '.target.json.', count: 2, short: true, errno: 'ENOSPC' },
      'ok',
    ],
    ['EIO on fdatasync', { path: '.target.json.', ops: ['fsync'], errno: 'EIO' }, 'fail'],
    ['EIO on rename', { path: 'target.json', ops: ['rename'], errno: 'EIO' }, 'fail'],
  ])('%s: the file is whole, old or new, and no temporary file is left', async ([, fault, expected], t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const dir = await tempRoot();
    const file = path.join(dir, 'target.json');
    await writeFile(file, 'old');
    const outcome = await underFault(dir, fault, write, [file, 'big']);
    if (expected === 'ok') {
      expect(outcome).toBe('ok');
      expect(await readFile(file, 'utf8')).toBe(big);
    } else {
      expect(outcome).toEqual({ code: 'IO_ERROR', errno: fault.errno, retryable: true });
      expect(await readFile(file, 'utf8')).toBe('old');
    }
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('EIO on the directory fsync after the rename: IO_ERROR saying the file is in place, not durable', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const dir = await realpath(await tempRoot()); // the shim matches the path /proc/self/fd shows
    const file = path.join(dir, 'target.json');
    await writeFile(file, 'old');
    const control = new FaultControl(dir);
    await control.set({ path: `${dir}$`, ops: ['fsync'], errno: 'EIO' });
    const code = `
      const fs = await import(${JSON.stringify(DURABLE_FS)});
      try { await fs.atomicWriteFile(process.argv[1], 'new'); console.log(JSON.stringify('ok')); }
      catch (e) {
        const { code, retryable, details, message } = e;
        console.log(JSON.stringify({ code, retryable, details, message }));
      }`;
    const outcome = (await runUnderShim(shim.library, control, code, [file])) as SessionError;
    expect(await control.faulted()).toEqual([`fsync ${dir}`]);
    expect(outcome).toMatchObject({
      code: 'IO_ERROR',
      retryable: false,
      details: { outcome: 'in-place-not-durable', installed: file, file: dir, errno: 'EIO' },
    });
    expect(outcome.message).toContain(`${file} is in place with its new content`);
    expect(outcome.message).toContain('a power loss may bring the old content back');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('on a real full disk: IO_ERROR with ENOSPC, the old content kept, no temporary file left', async (t) => {
    const mounted = await mountSmallDisk(256 * 1024);
    if (!mounted.ok) return t.skip(mounted.reason);
    try {
      const file = path.join(mounted.disk.dir, 'target.json');
      await writeFile(file, 'old');
      const error = await rejection(atomicWriteFile(file, 'x'.repeat(400 * 1024)));
      expect(error).toMatchObject({ code: 'IO_ERROR', retryable: true, details: { errno: 'ENOSPC', file } });
      expect(error.message).toContain('free space');
      expect(await readFile(file, 'utf8')).toBe('old');
      expect(await readdir(mounted.disk.dir)).toEqual(['target.json']);
    } finally {
      await mounted.disk.unmount();
    }
  });
});

describe('makeDir', () => {
  it('names the parent of every directory it made, whose entries must be synced, and none when all exist', async () => {
    const root = await tempRoot();
    const dir = path.join(root, 'a', 'b', 'c');
    await mkdir(path.join(root, 'a'));
    expect(await makeDir(dir)).toEqual([path.join(root, 'a', 'b'), path.join(root, 'a')]);
    expect(await readdir(path.join(root, 'a', 'b'))).toEqual(['c']);
    expect(await makeDir(dir)).toEqual([]);
  });
});

describe('fsyncDir', () => {
  it('goes on where the filesystem refuses a directory fsync (EINVAL), and reports other errors', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const dir = await tempRoot();
    const target = path.join(dir, 'dir-to-sync');
    await mkdir(target);
    expect(
      await underFault(
        dir,
        { path: 'dir-to-sync', ops: ['fsync'], errno: 'EINVAL' },
        'fs.fsyncDir(args[0])',
        [target],
      ),
    ).toBe('ok');
    expect(
      await underFault(dir, { path: 'dir-to-sync', ops: ['fsync'], errno: 'EIO' }, 'fs.fsyncDir(args[0])', [
        target,
      ]),
    ).toEqual({
      code: 'IO_ERROR',
      errno: 'EIO',
      retryable: true,
    });
  });
});

describe('what is not a regular file of the store', () => {
  it('a link is not followed: CORRUPT_FILE naming the link; a directory is IO_ERROR with EISDIR', async () => {
    const dir = await tempRoot();
    await writeFile(path.join(dir, 'outside.json'), '{"secret":true}');
    await symlink(path.join(dir, 'outside.json'), path.join(dir, 'linked.json'));
    const linked = await rejection(readTextOrNull(path.join(dir, 'linked.json')));
    expect(linked).toMatchObject({ code: 'CORRUPT_FILE', details: { file: path.join(dir, 'linked.json') } });
    await mkdir(path.join(dir, 'folder.json'));
    const folder = await rejection(readTextOrNull(path.join(dir, 'folder.json')));
    expect(folder).toMatchObject({
      code: 'IO_ERROR',
      details: { errno: 'EISDIR', file: path.join(dir, 'folder.json') },
    });
    expect(await readTextOrNull(path.join(dir, 'missing.json'))).toBeNull();
  });

  it('a file where the sessions directory should be: listing sessions is IO_ERROR with ENOTDIR', async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, '.dagent'));
    await writeFile(path.join(root, '.dagent', 'sessions'), 'not a directory');
    const store = await JsonFileSessionStore.open({ root, readOnly: true });
    const error = await rejection(store.listSessionIds());
    expect(error).toMatchObject({ code: 'IO_ERROR', details: { errno: 'ENOTDIR' } });
    expect(error.message).toContain('move the file out of the way');
    await store.close();
  });

  it(
    'assertInsideRoot refuses a directory that leads outside the root through a link, ' +
      'and allows one inside',
    async () => {
      const root = await tempRoot();
      const outside = await tempRoot();
      await mkdir(path.join(root, 'sessions'));
      await mkdir(path.join(root, 'elsewhere'));
      await symlink(outside, path.join(root, 'sessions', 'out'));
      await symlink(path.join(root, 'elsewhere'), path.join(root, 'sessions', 'in'));
      const error = await rejection(assertInsideRoot(path.join(root, 'sessions', 'out'), root));
      expect(error).toMatchObject({
        code: 'CORRUPT_FILE',
        details: { file: path.join(root, 'sessions', 'out') },
      });
      expect(error.message).toContain('symbolic link');
      await assertInsideRoot(path.join(root, 'sessions', 'in'), root);
      await assertInsideRoot(path.join(root, 'sessions', 'missing'), root);
    },
  );
});
