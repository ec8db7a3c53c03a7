/**
 * `dagent-sessions list` reads the store without a runtime: the same infos as
 * `runtime.listSessions()`, and a module graph without XState, the statecharts or a tokenizer.
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

  it('loads no XState, no statechart and no tokenizer', async () => {
    const root = await tempRoot();
    const hook = `data:text/javascript,${encodeURIComponent(
      'export async function load(url, context, next) ' +
        '{ process.stderr.write("LOADED " + url + "\\n"); return next(url, context); }',
    )}`;
    const script = [
      `import { register } from 'node:module';`,
      `register(${JSON.stringify(hook)});`,
      `const { listCommand } = await import(${JSON.stringify(path.join(PROJECT, 'src/cli/list-command.ts'))});`,
      `const out = [];`,
      `const code = await listCommand(['--root', ${JSON.stringify(root)}], ` +
        `{ out: (t) => out.push(t), err: () => {} });`,
      `process.stdout.write(JSON.stringify({ code, out }));`,
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT,
      encoding: 'utf8',
    });
    const { stdout, stderr } = child;
    expect(JSON.parse(stdout)).toEqual({ code: 0, out: [`No sessions under ${root}.`] });
    const loaded = stderr.split('\n').filter((line) => line.startsWith('LOADED '));
    expect(loaded.some((url) => url.includes('/src/cli/list-command.ts'))).toBe(true);
    expect(
      loaded.filter((url) => /xstate|session\.machine|gpt-tokenizer|js-tiktoken|@anthropic-ai/.test(url)),
    ).toEqual([]);
  });
});
