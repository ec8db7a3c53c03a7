/**
 * `dagent-sessions repair`: what a damaged session's error message sends a person to. It rebuilds
 * a lost checkpoint.json or session.json without losing a message, and says when a session is
 * still damaged in a way only a person can fix.
 */
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';
import { run } from './cli-helpers.js';

const ID = 'feature--fix--dev';

async function compactedRoot(): Promise<{ root: string; dir: string; history: Message[] }> {
  const root = await tempRoot();
  const runtime = await createSessionRuntime({
    root,
    estimator: createTokenEstimator({ mode: 'approximate' }),
  });
  await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'fix' });
  for (let i = 0; i < 30; i++) {
    await runtime.addMessage(ID, {
      role: i % 2 ? 'assistant' : 'user',
      content: `message ${i} ${'x '.repeat(40)}`,
    });
    if (i % 10 === 9) await runtime.compact(ID, { keepRecentTokens: 50 });
  }
  const history = await runtime.getHistory(ID);
  await runtime.close();
  return { root, dir: path.join(root, '.dagent', 'sessions', ID), history };
}

async function historyOf(root: string): Promise<Message[]> {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  try {
    return await runtime.getHistory(ID);
  } finally {
    await runtime.close();
  }
}

describe('repair', () => {
  it('rebuilds a deleted checkpoint.json and session.json from the other files: every message back', async () => {
    const { root, dir, history } = await compactedRoot();
    await unlink(path.join(dir, 'checkpoint.json'));
    await unlink(path.join(dir, 'session.json'));
    const r = await run('repair', ID, '--root', root);
    expect(r.stderr()).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout()).toContain('rebuilt session.json');
    expect(r.stdout()).toMatch(/rebuilt checkpoint\.json from archive segments 1\.\.3/);
    expect(r.stdout()).toContain(`${ID} loads: `);
    expect(await historyOf(root)).toEqual(history);
  });

  it('replaces a set-aside checkpoint (renamed, never deleted), and says so as JSON', async () => {
    const { root, dir, history } = await compactedRoot();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'checkpoint.json'), '{"version": 3, "summ');
    expect((await run('show', ID, '--root', root)).code).not.toBe(0); // reported (read-only: left in place)
    const r = await run('repair', ID, '--root', root, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout()) as { ok: boolean; done: string[]; archived: number; live: number };
    expect(report.ok).toBe(true);
    expect(report.archived + report.live).toBe(history.length);
    expect((await readdir(dir)).filter((n) => n.startsWith('checkpoint.json.replaced-'))).toHaveLength(1);
    expect(await historyOf(root)).toEqual(history);
  });

  it('leaves a missing segment to a person: exit 2, naming the file', async () => {
    const { root, dir } = await compactedRoot();
    const segment = path.join(dir, 'archive', '000002.json');
    await unlink(segment);
    const r = await run('repair', ID, '--root', root);
    expect(r.code).toBe(2);
    expect(r.stderr()).toContain(segment);
    expect(r.stderr()).toContain('(CORRUPT_FILE)');
    expect(await readdir(path.join(dir, 'archive'))).toEqual(['000001.json', '000003.json']);
  });
});
