/**
 * `export --out` never writes inside the session store `<root>/.dagent`, however the path gets
 * there (directly, through `..`, or through a symlink), and leaves the store byte-identical.
 */
import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { FEATURE_ID, run, seededRoot } from './cli-helpers.js';

describe('export --out', () => {
  it('refuses every path inside <root>/.dagent, symlinks resolved, and changes nothing there', async () => {
    const root = await seededRoot();
    const store = path.join(root, '.dagent');
    const session = path.join(store, 'sessions', FEATURE_ID);
    const elsewhere = await tempRoot();
    await symlink(session, path.join(elsewhere, 'into-session'));
    await symlink(root, path.join(elsewhere, 'into-root'));
    const before = await snapshotDir(store);
    for (const out of [
      path.join(session, 'chat.json'),
      path.join(session, 'checkpoint.json'),
      path.join(store, 'lock'),
      store,
      path.join(root, 'reports', '..', '.dagent', 'sessions', 'new.json'),
      path.join(elsewhere, 'into-session', 'chat.json'),
      path.join(elsewhere, 'into-root', '.dagent', 'sessions', FEATURE_ID, 'session.json'),
    ]) {
      const r = await run('export', FEATURE_ID, '--root', root, '--out', out);
      expect(r.code, out).toBe(1);
      expect(r.stderr()).toContain('(INVALID_ARGUMENT)');
      expect(r.stderr()).toMatch(/is inside the session store .*choose a path outside/);
    }
    expect(await snapshotDir(store)).toEqual(before);
  });

  it(
    'writes next to the store, under a name that only starts like it, ' +
      'and through symlinks that lead outside',
    async () => {
      const root = await seededRoot();
      const elsewhere = await tempRoot();
      await mkdir(path.join(elsewhere, 'real'));
      await symlink(path.join(elsewhere, 'real'), path.join(root, 'exports'));
      for (const out of [path.join(root, '.dagent-export.json'), path.join(root, 'exports', 'f1.json')]) {
        const r = await run('export', FEATURE_ID, '--root', root, '--out', out);
        expect(r.code, r.stderr()).toBe(0);
        expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ session: { id: FEATURE_ID } });
      }
    },
  );
});
