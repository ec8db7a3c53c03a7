/**
 * `dagent-sessions list` reads the store without a runtime: the same infos as
 * `runtime.listSessions()`, and a module graph without XState, the statecharts or a tokenizer
 * (without the store at all for a root that holds no session).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listSessionsOf } from '../../src/cli/list-sessions.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';
import { seededRoot } from './cli-helpers.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

describe('listSessionsOf', () => {
  it('gives what runtime.listSessions() gives, damaged sessions included', async () => {
    const root = await seededRoot();
    const damaged = path.join(root, '.dagent', 'sessions', 'feature--broken--dev');
    await mkdir(damaged, { recursive: true });
    await writeFile(path.join(damaged, 'session.json'), '{ not json');
    const runtime = await createSessionRuntime({ root, readOnly: true });
    const expected = await runtime.listSessions();
    await runtime.close();
    expect(expected.some((s) => s.error !== null)).toBe(true);
    expect(await listSessionsOf(root)).toEqual(expected);
  });

  it('refuses a root that is not a directory', async () => {
    const root = await tempRoot();
    await expect(listSessionsOf(path.join(root, 'missing'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  /** Runs `list` on `root` in a fresh process; returns its output and the modules it loaded. */
  function listInFreshProcess(root: string): { result: unknown; loaded: string[] } {
    const hook = `data:text/javascript,${encodeURIComponent(
      'export async function load(url, context, next) ' +
        '{ process.stderr.write("LOADED " + url + "\\n"); return next(url, context); }',
    )}`;
    const script = [
      `import { register } from 'node:module';`,
      `register(${JSON.stringify(hook)});`,
      `const { listCommand } = await import(${JSON.stringify(path.join(PROJECT, 'src/cli/list-command.ts'))});`,
      `const out = [];`,
      `const code = await listCommand(['--root', ${JSON.stringify(root)}, '--json'], ` +
        `{ out: (t) => out.push(t), err: () => {} });`,
      `process.stdout.write(JSON.stringify({ code, out }));`,
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT,
      encoding: 'utf8',
    });
    const loaded = child.stderr.split('\n').filter((line) => line.startsWith('LOADED '));
    expect(loaded.some((url) => url.includes('/src/cli/list-command.ts'))).toBe(true);
    return { result: JSON.parse(child.stdout), loaded };
  }

  it('lists sessions with no XState, no statechart, no tokenizer and no lock', async () => {
    const root = await seededRoot();
    const { result, loaded } = listInFreshProcess(root);
    const { code, out } = result as { code: number; out: string[] };
    expect(code).toBe(0);
    const ids = (JSON.parse(out.join('\n')) as { id: string }[]).map((s) => s.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual((await listSessionsOf(root)).map((s) => s.id));
    expect(loaded.some((url) => url.includes('/src/store/session-store.ts'))).toBe(true);
    expect(
      loaded.filter((url) =>
        /xstate|session\.machine|gpt-tokenizer|js-tiktoken|@anthropic-ai|root-lock/.test(url),
      ),
    ).toEqual([]);
  });

  it('answers a root without sessions without loading the store or the runtime', async () => {
    const root = await tempRoot();
    // Not a session (a dot entry, a plain file): the store's own listing rule skips both.
    await mkdir(path.join(root, '.dagent', 'sessions', '.trash'), { recursive: true });
    await writeFile(path.join(root, '.dagent', 'sessions', 'notes.txt'), 'x');
    const { result, loaded } = listInFreshProcess(root);
    expect(result).toEqual({ code: 0, out: ['[]'] });
    expect(await listSessionsOf(root)).toEqual([]);
    expect(loaded.filter((url) => /\/src\/(store\/session-|runtime\/)|lowdb|xstate/.test(url))).toEqual([
      expect.stringContaining('/src/store/session-ids.ts'),
    ]);
  });
});
