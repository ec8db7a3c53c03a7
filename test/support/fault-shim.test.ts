/**
 * The fault shim itself: a child Node process under it sees the faults it is told to see, on the
 * paths it is told, and nothing else; lifting a fault lets the next call through.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRoot } from '../helpers/temp-root.js';
import { FaultControl, buildFaultShim, faultEnv, type ShimBuild } from './fault-shim.js';

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
  if (!shim.ok) console.warn(`fault-shim tests cannot run: ${shim.reason}`);
});

/** Runs a snippet of Node in a child under the shim; resolves to what it printed as JSON. */
async function underShim(control: FaultControl, code: string, args: string[]): Promise<unknown> {
  if (!shim.ok) throw new Error(shim.reason);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', code, ...args],
    {
      env: faultEnv(shim.library, control),
    },
  );
  return JSON.parse(stdout);
}

const WRITE_TWICE = `
import { open } from 'node:fs/promises';
const [file] = process.argv.slice(1);
const out = [];
const h = await open(file, 'a');
for (const text of ['first record\\n', 'second record\\n', 'third record\\n']) {
  try { const r = await h.write(Buffer.from(text)); out.push(r.bytesWritten); await h.datasync(); out.push('synced'); }
  catch (e) { out.push(e.code); }
}
await h.close();
console.log(JSON.stringify(out));
`;

describe('the LD_PRELOAD fault shim', () => {
  it('fails the nth write on a matching path with the errno asked for, and only that one', async () => {
    const dir = await tempRoot();
    const control = new FaultControl(dir);
    await control.set({ path: 'target.log', nth: 2, errno: 'ENOSPC' });
    const file = path.join(dir, 'target.log');
    expect(await underShim(control, WRITE_TWICE, [file])).toEqual([13, 'synced', 'ENOSPC', 13, 'synced']);
    expect(await readFile(file, 'utf8')).toBe('first record\nthird record\n');
    expect(await control.faulted()).toEqual([`write ${file}`]);
  });

  it('returns a short count instead of failing, as write(2) does on a full disk', async () => {
    const dir = await tempRoot();
    const control = new FaultControl(dir);
    await control.set({ path: 'target.log', nth: 1, short: true, count: 2, errno: 'ENOSPC' });
    const file = path.join(dir, 'target.log');
    const out = (await underShim(control, WRITE_TWICE, [file])) as unknown[];
    // libuv retries the rest, which fails: Node resolves with the short count and no error.
    expect(out.slice(0, 2)).toEqual([6, 'synced']);
    expect(await readFile(file, 'utf8')).toBe('first second record\nthird record\n');
  });

  it('fails fsync on a matching path, and leaves other paths alone', async () => {
    const dir = await tempRoot();
    const control = new FaultControl(dir);
    await control.set({ path: 'target.log', ops: ['fsync'], count: -1 });
    expect(await underShim(control, WRITE_TWICE, [path.join(dir, 'target.log')])).toEqual([
      13,
      'EIO',
      14,
      'EIO',
      13,
      'EIO',
    ]);
    expect(await underShim(control, WRITE_TWICE, [path.join(dir, 'other.log')])).toEqual([
      13,
      'synced',
      14,
      'synced',
      13,
      'synced',
    ]);
  });

  it('with a trailing $, matches the end of a path only: a directory, not the files in it', async () => {
    const dir = await realpath(await tempRoot()); // the shim matches the path /proc/self/fd shows
    const control = new FaultControl(dir);
    await control.set({ path: `${dir}$`, ops: ['fsync'], count: -1 });
    const code = `
      import { open } from 'node:fs/promises';
      const [dir] = process.argv.slice(1);
      const out = [];
      for (const [name, flags] of [[dir + '/inside.log', 'a'], [dir, 'r']]) {
        const h = await open(name, flags);
        try { await h.sync(); out.push('synced'); } catch (e) { out.push(e.code); }
        await h.close();
      }
      console.log(JSON.stringify(out));`;
    expect(await underShim(control, code, [dir])).toEqual(['synced', 'EIO']);
    expect(await control.faulted()).toEqual([`fsync ${dir}`]);
  });

  it('fails a rename onto a matching path', async () => {
    const dir = await tempRoot();
    const control = new FaultControl(dir);
    await control.set({ path: 'checkpoint.json', ops: ['rename'], errno: 'EIO' });
    const code = `
      import { writeFile, rename } from 'node:fs/promises';
      const [dir] = process.argv.slice(1);
      await writeFile(dir + '/t1', 'x'); await writeFile(dir + '/t2', 'y');
      const out = [];
      for (const t of ['t1', 't2']) {
        try {
          await rename(dir + '/' + t, dir + '/checkpoint.json');
          out.push('ok');
        } catch (e) {
          out.push(e.code);
        }
      }
      console.log(JSON.stringify(out));`;
    expect(await underShim(control, code, [dir])).toEqual(['EIO', 'ok']);
  });

  it('lifts a fault while the child runs: the next call goes through', async () => {
    const dir = await tempRoot();
    const control = new FaultControl(dir);
    await control.set({ path: 'target.log', count: -1, errno: 'ENOSPC' });
    const code = `
      import { open, rename, writeFile } from 'node:fs/promises';
      const [file, controlFile] = process.argv.slice(1);
      const h = await open(file, 'a'); const out = [];
      try { await h.write(Buffer.from('a\\n')); out.push('ok'); } catch (e) { out.push(e.code); }
      await writeFile(controlFile + '.tmp', ''); await rename(controlFile + '.tmp', controlFile);
      try { await h.write(Buffer.from('b\\n')); out.push('ok'); } catch (e) { out.push(e.code); }
      await h.close(); console.log(JSON.stringify(out));`;
    expect(await underShim(control, code, [path.join(dir, 'target.log'), control.file])).toEqual([
      'ENOSPC',
      'ok',
    ]);
  });
});
