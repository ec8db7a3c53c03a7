/**
 * list, show, preview and export: happy paths, their JSON, filters, a missing session, and
 * that they read while another runtime holds the root's write lock.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionExport, SessionInfo } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FEATURE_ID, TASK_ID, run, seededRoot } from './cli-helpers.js';

describe('list', () => {
  it('prints a table of the sessions and their JSON', async () => {
    const root = await seededRoot();
    const table = await run('list', '--root', root);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.out[0]!.split('\n');
    expect(header).toMatch(/^ID\s+AGENT\s+STATE\s+MESSAGES\s+TOKENS\s+CHECKPOINT\s+UPDATED$/);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual([FEATURE_ID, TASK_ID]);
    expect(rows[0]).toMatch(/feature--f1--pm\s+pm\s+closed\s+12\s+[\d,]+\s+0\s+\d{4}-/);
    expect(table.stdout()).toContain(`2 of 2 sessions under ${root}`);

    const json = await run('list', '--root', root, '--json');
    expect(json.code).toBe(0);
    const sessions = JSON.parse(json.stdout()) as SessionInfo[];
    expect(sessions.map((s) => [s.id, s.stats.totalMessages])).toEqual([
      [FEATURE_ID, 12],
      [TASK_ID, 2],
    ]);
  });

  it('filters by agent, feature and task or session state', async () => {
    const root = await seededRoot();
    const ids = async (...flags: string[]) =>
      (JSON.parse((await run('list', '--root', root, '--json', ...flags)).stdout()) as SessionInfo[]).map(
        (s) => s.id,
      );
    expect(await ids('--agent', 'dev')).toEqual([TASK_ID]);
    expect(await ids('--feature', 'f1')).toEqual([FEATURE_ID, TASK_ID]);
    expect(await ids('--feature', 'f2')).toEqual([]);
    expect(await ids('--state', 'in_dev')).toEqual([TASK_ID]);
    expect(await ids('--state', 'closed')).toEqual([FEATURE_ID, TASK_ID]);
    expect(await ids('--state', 'archived')).toEqual([]);
    const bad = await run('list', '--root', root, '--agent', 'cto');
    expect(bad.code).toBe(1);
    expect(bad.stderr()).toContain('--agent must be one of pm, dev, qa, harness, merge');
    const none = await run('list', '--root', root, '--agent', 'qa');
    expect(none.code).toBe(0);
    expect(none.stdout()).toContain('No session of the 2 under');
  });

  it('says so when a root has no sessions', async () => {
    const root = await tempRoot('dagent-cli-empty-');
    const r = await run('list', '--root', root);
    expect(r.code).toBe(0);
    expect(r.stdout()).toBe(`No sessions under ${root}.`);
    expect(JSON.parse((await run('list', '--root', root, '--json')).stdout())).toEqual([]);
  });
});

describe('show', () => {
  it('prints the session, its checkpoint and its last messages, and their JSON', async () => {
    const root = await seededRoot();
    const r = await run('show', FEATURE_ID, '--root', root, '--messages', '3');
    expect(r.code).toBe(0);
    const text = r.stdout();
    expect(text).toContain(`Session ${FEATURE_ID}`);
    expect(text).toContain('feature f1, agent pm');
    expect(text).toContain('12 live');
    expect(text).toContain('No checkpoint yet');
    expect(text).toContain('Last 3 of 12 live messages:');
    expect(text).toContain('Step 8: decided');

    const json = await run('show', FEATURE_ID, '--root', root, '--json', '--messages', '2');
    const data = JSON.parse(json.stdout()) as {
      session: SessionInfo;
      messages: { seq: number }[];
      checkpoint: unknown;
      context: unknown;
      size: { total: number };
    };
    expect(data.session.id).toBe(FEATURE_ID);
    expect(data.messages.map((m) => m.seq)).toEqual([10, 11]);
    expect(data.checkpoint).toBeNull();
    expect(data.context).toEqual({ featureName: 'CSV export' });
    expect(data.size.total).toBeGreaterThan(0);
  });

  it('shows the checkpoint after a compaction, whole messages with --full', async () => {
    const root = await seededRoot();
    expect((await run('compact', FEATURE_ID, '--root', root, '--keep-recent-tokens', '40')).code).toBe(0);
    const r = await run('show', FEATURE_ID, '--root', root, '--full', '--messages', '1');
    expect(r.code).toBe(0);
    expect(r.stdout()).toMatch(/Checkpoint v1 \([\d,]+ tokens, offline, \d+ messages archived\)/);
    expect(r.stdout()).toContain('  Decisions:');
    expect(r.stdout()).toContain('      Step 8: decided to stream rows in batches of 900');
  });
});

describe('preview', () => {
  it('prints the request breakdown, and the whole request as JSON', async () => {
    const root = await seededRoot();
    const r = await run('preview', FEATURE_ID, '--root', root, '--message', 'Continue with the tests');
    expect(r.code).toBe(0);
    expect(r.stdout()).toMatch(/PART\s+TOKENS\s+SHARE/);
    for (const part of [
      'agent description',
      'context',
      'checkpoint',
      'messages',
      'user message',
      'reply reserve',
      'total',
    ])
      expect(r.stdout()).toContain(part);
    expect(r.stdout()).toContain('of 100,000 tokens: fits');

    const json = await run(
      'preview',
      FEATURE_ID,
      '--root',
      root,
      '--format',
      'messages',
      '--json',
      '--message',
      'Go on',
    );
    const request = JSON.parse(json.stdout()) as {
      messages: { role: string }[];
      breakdown: { total: number };
      totalTokens: number;
      systemPrompt: string;
    };
    expect(request.totalTokens).toBe(request.breakdown.total);
    // As it would be sent: the final message carries a prompt-cache breakpoint.
    expect(request.messages.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'Go on', cache_control: { type: 'ephemeral' } }],
    });
    expect(request.systemPrompt).toContain('CSV export');

    const withPrompt = await run('preview', TASK_ID, '--root', root, '--prompt');
    expect(withPrompt.stdout()).toContain('--- system prompt ---');
    expect((await run('preview', FEATURE_ID, '--root', root, '--format', 'xml')).stderr()).toContain(
      '--format must be one of flattened, messages',
    );
  });
});

describe('export', () => {
  it('prints the session with its whole history, or writes it to a file', async () => {
    const root = await seededRoot();
    const r = await run('export', FEATURE_ID, '--root', root);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout()) as SessionExport;
    expect(data.session.id).toBe(FEATURE_ID);
    expect(data.history).toHaveLength(12);

    const file = path.join(root, 'out', '..', 'feature.json');
    const written = await run('export', FEATURE_ID, '--root', root, '--out', file, '--json');
    expect(written.code).toBe(0);
    expect(JSON.parse(written.stdout())).toMatchObject({
      file: path.resolve(file),
      sessionId: FEATURE_ID,
      messages: 12,
    });
    expect((JSON.parse(await readFile(file, 'utf8')) as SessionExport).history).toEqual(data.history);

    const nowhere = await run(
      'export',
      FEATURE_ID,
      '--root',
      root,
      '--out',
      path.join(root, 'missing-dir', 'x.json'),
    );
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr()).toContain('(IO_ERROR)');
  });
});

describe('read-only commands', () => {
  it.each([
    ['show', FEATURE_ID],
    ['preview', FEATURE_ID],
    ['export', FEATURE_ID],
  ])('%s of a missing session exits 1 with SESSION_NOT_FOUND', async (command) => {
    const root = await seededRoot();
    const r = await run(command, 'feature--nope--pm', '--root', root);
    expect(r.code).toBe(1);
    expect(r.stderr()).toContain('no session "feature--nope--pm"');
    expect(r.stderr()).toContain('dagent-sessions list --root');
    expect(r.stderr()).toContain('(SESSION_NOT_FOUND)');
  });

  it('work while another runtime holds the write lock', async () => {
    const root = await seededRoot();
    const host = await createSessionRuntime({ root });
    try {
      await host.addMessage(TASK_ID, { role: 'user', content: 'appended by the host' });
      for (const argv of [['list'], ['show', TASK_ID], ['preview', TASK_ID], ['export', TASK_ID]]) {
        const r = await run(...argv, '--root', root, '--json');
        expect(r.code, `${argv.join(' ')}: ${r.stderr()}`).toBe(0);
        expect(() => JSON.parse(r.stdout()) as unknown).not.toThrow();
      }
      const exported = JSON.parse((await run('export', TASK_ID, '--root', root)).stdout()) as SessionExport;
      expect(exported.history.at(-1)?.content).toBe('appended by the host');
    } finally {
      await host.close();
    }
  });
});
