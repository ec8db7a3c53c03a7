/**
 * A session exported from one root (`export ID --out FILE`) and imported into another
 * (`import FILE`) comes back whole: every message, archived and live, with its role, content,
 * timestamp and metadata byte for byte, into the session of the same key.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionExport } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FEATURE_ID, run, seededRoot } from './cli-helpers.js';

async function exported(root: string, out: string): Promise<SessionExport> {
  const r = await run('export', FEATURE_ID, '--root', root, '--out', out);
  expect(r.code, r.stderr()).toBe(0);
  return JSON.parse(await readFile(out, 'utf8')) as SessionExport;
}

/** What must survive the round trip; the first message's import mark is the import's own. */
const kept = (m: Message, i: number) => {
  const { import: _mark, ...metadata } = m.metadata ?? {};
  return JSON.stringify([m.role, m.content, m.timestamp, i === 0 ? metadata : m.metadata]);
};

describe('export, then import elsewhere', () => {
  it('brings back every message, archived and live, byte for byte, into the same session', async () => {
    const root = await seededRoot();
    const runtime = await createSessionRuntime({ root });
    try {
      await runtime.addMessage(FEATURE_ID, {
        role: 'user',
        content: 'Ünïcödé 🚀 «quotes» \u2028 line\nbreak \\ "escaped" \u0000 end',
        timestamp: '2024-02-29T23:59:59.999Z',
        metadata: { media: ['a.png'], nested: { deep: [1, null, 'x'] } },
      });
      await runtime.compact(FEATURE_ID, { keepRecentTokens: 0 });
      await runtime.addMessage(FEATURE_ID, {
        role: 'assistant',
        content: [{ type: 'text', text: 'after 🎉' }],
      });
    } finally {
      await runtime.close();
    }
    const dir = await tempRoot('dagent-cli-roundtrip-');
    const original = await exported(root, path.join(dir, 'out.json'));
    expect(original.checkpoint?.compactionInfo.archivedMessages ?? 0).toBeGreaterThan(0);

    const other = await tempRoot('dagent-cli-roundtrip-');
    const imported = await run('import', path.join(dir, 'out.json'), '--root', other, '--json');
    expect(imported.code, imported.stderr()).toBe(0);
    expect(JSON.parse(imported.stdout())).toMatchObject({
      format: 'session-export',
      sessionId: FEATURE_ID,
      appended: original.history.length,
      complete: true,
    });
    const back = await exported(other, path.join(dir, 'back.json'));
    expect(back.history.map(kept)).toEqual(original.history.map(kept));
    expect(back.history[0]?.metadata?.import).toMatchObject({ file: 'out.json', messages: 14 });

    const twice = await run('import', path.join(dir, 'out.json'), '--root', other);
    expect(twice.code).toBe(1);
    expect(twice.stderr()).toContain(`was already imported into ${FEATURE_ID}`);
  });

  it('puts an export where the key flags say, and names what is wrong in a damaged one', async () => {
    const root = await seededRoot();
    const dir = await tempRoot('dagent-cli-roundtrip-');
    const file = path.join(dir, 'out.json');
    const original = await exported(root, file);
    const moved = await run('import', file, '--root', dir, '--feature', 'f7', '--json');
    expect(moved.code, moved.stderr()).toBe(0);
    expect(JSON.parse(moved.stdout())).toMatchObject({ sessionId: 'feature--f7--dev', appended: 12 });

    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, text.length / 2));
    const cut = await run('import', file, '--root', dir, '--format', 'session-export');
    expect(cut.code).toBe(1);
    expect(cut.stderr()).toContain('not valid JSON');
    const broken = { ...original, history: [...original.history.slice(0, 2), 'junk'] };
    await writeFile(file, JSON.stringify(broken));
    const junk = await run('import', file, '--root', dir);
    expect(junk.code).toBe(1);
    expect(junk.stderr()).toContain('history[2] is not an object');
    await writeFile(file, JSON.stringify({ ...original, history: [{ role: 'robot', content: 'x' }] }));
    const role = await run('import', file, '--root', dir);
    expect(role.code).toBe(1);
    expect(role.stderr()).toMatch(
      /message 0 cannot be imported: .*role.*nothing was imported \(INVALID_MESSAGE\)/,
    );
  });
});
