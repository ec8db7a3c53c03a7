/**
 * The power-loss model the conformance suite applies to a store's files: what is synced stays,
 * what is not (a file's data, a directory's entries) is gone, on real files in a temporary root.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPowerLoss, type PowerLoss } from '../../src/conformance/power-loss.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const models: PowerLoss[] = [];
afterEach(() => {
  for (const model of models.splice(0)) model.release();
});
const modelOf = (root: string) => {
  const model = createPowerLoss(root);
  models.push(model);
  return model;
};

/** Writes `text` to `file` (created if need be) and fdatasyncs it. */
function writeSynced(file: string, text: string): void {
  const fd = openSync(file, 'w');
  writeSync(fd, text);
  fsyncSync(fd);
  closeSync(fd);
}

const text = (bytes: Record<string, string>) =>
  Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('createPowerLoss', () => {
  it('keeps what was on disk when it was made; drops files made after and never synced', async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, 'd'));
    await writeFile(path.join(root, 'd', 'a.json'), 'old');
    const model = modelOf(root);
    await writeFile(path.join(root, 'd', 'a.json'), 'new, not synced');
    await writeFile(path.join(root, 'd', 'b.json'), 'never synced');
    await model.apply();
    expect(text(await snapshotDir(root))).toEqual({ 'd/a.json': 'old' });
  });

  it('a rename counts once its directory is synced, with the data synced before it', async () => {
    const root = await tempRoot();
    await writeFile(path.join(root, 'a.json'), 'v1');
    const model = modelOf(root);
    writeSynced(path.join(root, '.a.tmp'), 'v2');
    model.synced('file', path.join(root, '.a.tmp'));
    await rename(path.join(root, '.a.tmp'), path.join(root, 'a.json'));
    writeSynced(path.join(root, '.b.tmp'), 'b');
    model.synced('file', path.join(root, '.b.tmp'));
    model.synced('directory', root);
    await rename(path.join(root, '.b.tmp'), path.join(root, 'b.json')); // not synced: stays .b.tmp
    await model.apply();
    expect(text(await snapshotDir(root))).toEqual({ 'a.json': 'v2', '.b.tmp': 'b' });
  });

  it('an entry synced without its data leaves an empty file; a crash stops everything after it', async () => {
    const root = await tempRoot();
    const model = modelOf(root);
    await writeFile(path.join(root, 'a.json'), 'data never synced');
    model.synced('directory', root);
    model.crash();
    writeSynced(path.join(root, 'a.json'), 'synced after the crash');
    model.synced('file', path.join(root, 'a.json'));
    await model.apply();
    expect(text(await snapshotDir(root))).toEqual({ 'a.json': '' });
  });

  it('a new directory needs its parent synced, and its own entries their own sync', async () => {
    const root = await tempRoot();
    const archive = path.join(root, 'archive');
    const made = async (syncs: (model: PowerLoss) => void) => {
      const model = modelOf(root);
      await mkdir(archive);
      writeSynced(path.join(archive, '000001.json'), 'segment');
      model.synced('file', path.join(archive, '000001.json'));
      syncs(model);
      await model.apply();
      const files = text(await snapshotDir(root));
      const dir = await readdir(root);
      await rm(archive, { recursive: true, force: true });
      return { files, dir };
    };
    // The parent's entry never synced: archive/ is gone, whatever was synced inside.
    expect(await made((m) => m.synced('directory', archive))).toEqual({ files: {}, dir: [] });
    // The parent synced, archive/ itself not: there, empty.
    expect(await made((m) => m.synced('directory', root))).toEqual({ files: {}, dir: ['archive'] });
    // Both synced: the segment is there.
    const both = await made((m) => {
      m.synced('directory', archive);
      m.synced('directory', root);
    });
    expect(both).toEqual({ files: { 'archive/000001.json': 'segment' }, dir: ['archive'] });
  });

  it('follows a file by inode: data synced under a temporary name is what its new name holds', async () => {
    const root = await tempRoot();
    writeSynced(path.join(root, 'chat.json'), 'v1');
    const model = modelOf(root);
    writeSynced(path.join(root, '.chat.tmp'), 'v2');
    await rename(path.join(root, '.chat.tmp'), path.join(root, 'chat.json'));
    model.synced('directory', root); // the data was synced before the rename, but not reported:
    await model.apply(); // the file under chat.json now was never synced
    expect(text(await snapshotDir(root))).toEqual({ 'chat.json': '' });
  });

  it('with `only`, follows one entry of the root, made after it, and leaves the others as they are', async () => {
    const root = await tempRoot();
    const model = createPowerLoss(root, { only: 'sessions' });
    models.push(model);
    writeSynced(path.join(root, 'lock'), 'held'); // the process's: neither kept nor removed
    await mkdir(path.join(root, 'sessions', 's1'), { recursive: true });
    writeSynced(path.join(root, 'sessions', 's1', 'a.json'), 'a');
    model.synced('file', path.join(root, 'sessions', 's1', 'a.json'));
    model.synced('file', path.join(root, 'lock'));
    model.synced('directory', path.join(root, 'sessions', 's1'));
    model.synced('directory', path.join(root, 'sessions'));
    const unsynced = text(await snapshotDir(root));
    await model.apply(); // the root's entry for sessions/ was never synced
    expect([unsynced, text(await snapshotDir(root))]).toEqual([
      { lock: 'held', 'sessions/s1/a.json': 'a' },
      { lock: 'held' },
    ]);
  });

  it('with `only`, a directory made in the root counts once the root is synced', async () => {
    const root = await tempRoot();
    writeSynced(path.join(root, 'lock'), 'held');
    const model = createPowerLoss(root, { only: 'sessions' });
    models.push(model);
    await mkdir(path.join(root, 'sessions'));
    writeSynced(path.join(root, 'sessions', 'a.json'), 'a');
    model.synced('file', path.join(root, 'sessions', 'a.json'));
    model.synced('directory', path.join(root, 'sessions'));
    model.synced('directory', root);
    await rm(path.join(root, 'lock'));
    await model.apply();
    expect(text(await snapshotDir(root))).toEqual({ 'sessions/a.json': 'a' });
  });
});
