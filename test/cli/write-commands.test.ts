/**
 * compact, import and replay: happy paths and JSON, every imported message landing with its
 * tool pairs, the replay's compaction table, and ROOT_LOCKED naming the holder.
 */
import { appendFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ContentBlock, Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { fileSha256, withImportMark } from '../../src/cli/import-record.js';
import { readTranscriptFile } from '../../src/integration/transcript-file.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FEATURE_ID, TASK_ID, run, seededRoot, writeTranscript } from './cli-helpers.js';

const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/claude-code/session.jsonl',
);

async function history(root: string, id: string): Promise<Message[]> {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  try {
    return await runtime.getHistory(id);
  } finally {
    await runtime.close();
  }
}

const blocksOf = (m: Message): ContentBlock[] => (Array.isArray(m.content) ? m.content : []);

/** Every tool_result answers a tool_use that came before it, and no id is answered twice. */
function expectPaired(messages: Message[]): { calls: number; results: number } {
  const calls = new Set<string>();
  const answered = new Set<string>();
  for (const m of messages) {
    for (const b of blocksOf(m)) {
      if (b.type === 'tool_use') calls.add(b.id);
      if (b.type === 'tool_result') {
        expect(calls.has(b.tool_use_id), `result ${b.tool_use_id} before its call`).toBe(true);
        expect(answered.has(b.tool_use_id)).toBe(false);
        answered.add(b.tool_use_id);
      }
    }
  }
  return { calls: calls.size, results: answered.size };
}

describe('compact', () => {
  it('compacts a session and prints tokens before -> after, or the result as JSON', async () => {
    const root = await seededRoot();
    const r = await run('compact', FEATURE_ID, '--root', root, '--keep-recent-tokens', '40');
    expect(r.code).toBe(0);
    expect(r.stdout()).toMatch(/Compacted feature--f1--pm: [\d,]+ -> [\d,]+ tokens/);
    expect(r.stdout()).toMatch(/\d+ messages \([\d,]+ tokens\) folded into checkpoint v1/);

    const again = await run('compact', TASK_ID, '--root', root, '--json');
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout()) as {
      sessionId: string;
      kind: string;
      tokensBefore: number;
      tokensAfter: number;
    };
    expect(result.sessionId).toBe(TASK_ID);
    expect(['compacted', 'nothing-to-fold']).toContain(result.kind);
    expect(await history(root, FEATURE_ID)).toHaveLength(12);
  });

  it('reports a missing session and a bad --keep-recent-tokens', async () => {
    const root = await seededRoot();
    const missing = await run('compact', 'feature--nope--pm', '--root', root);
    expect(missing.code).toBe(1);
    expect(missing.stderr()).toContain('(SESSION_NOT_FOUND)');
    const bad = await run('compact', FEATURE_ID, '--root', root, '--keep-recent-tokens=-5');
    expect(bad.code).toBe(1);
    expect(bad.stderr()).toContain('--keep-recent-tokens must be an integer >= 0');
  });
});

describe('write commands under a held lock', () => {
  it.each([
    ['compact', [FEATURE_ID]],
    ['import', [FIXTURE, '--skip-invalid']],
    ['replay', [FIXTURE, '--skip-invalid']],
  ])('%s reports ROOT_LOCKED naming the holder and what to do', async (command, args) => {
    const root = await seededRoot();
    const host = await createSessionRuntime({ root });
    try {
      const r = await run(command, ...args, '--root', root);
      expect(r.code).toBe(1);
      const text = r.stderr();
      expect(text).toContain(`${command} needs to write to ${root}`);
      expect(text).toContain(`process ${process.pid} on `);
      expect(text).toContain('dagent-sessions runtime');
      expect(text).toContain('list, show, preview, export, inspect work meanwhile');
      expect(text).toContain(path.join(root, '.dagent', 'lock'));
      expect(text).toContain('(ROOT_LOCKED)');
    } finally {
      await host.close();
    }
  });
});

describe('import', () => {
  it('lands every message of a shared-format transcript, calls paired with their results', async () => {
    const root = await tempRoot('dagent-cli-import-');
    const file = await writeTranscript(root, 'small run.json', 5);
    const r = await run('import', file, '--root', root, '--json');
    expect(r.code, r.stderr()).toBe(0);
    const report = JSON.parse(r.stdout()) as {
      sessionId: string;
      format: string;
      appended: number;
      historyMessages: number;
      complete: boolean;
      toolCalls: number;
      pairedResults: number;
    };
    expect(report).toMatchObject({
      sessionId: 'task--import--small-run--in_dev--dev',
      format: 'transcript',
      appended: 20,
      historyMessages: 20,
      complete: true,
      toolCalls: 5,
      pairedResults: 5,
    });
    const messages = await history(root, report.sessionId);
    expect(messages).toHaveLength(20);
    expect(expectPaired(messages)).toEqual({ calls: 5, results: 5 });
  });

  it('lands every conversation line of a Claude Code log, paired by id, into the session of the flags', async () => {
    const root = await tempRoot('dagent-cli-import-');
    const refused = await run('import', FIXTURE, '--root', root);
    expect(refused.code).toBe(1);
    expect(refused.stderr()).toContain('line 18: not valid JSON');
    expect(refused.stderr()).toContain('--skip-invalid');

    const r = await run(
      'import',
      FIXTURE,
      '--root',
      root,
      '--skip-invalid',
      '--feature',
      'f9',
      '--task',
      'csv',
      '--agent',
      'qa',
      '--state',
      'in_qa',
    );
    expect(r.code, r.stderr()).toBe(0);
    const text = r.stdout();
    expect(text).toContain('Imported session.jsonl (Claude Code log) into task--f9--csv--in_qa--qa');
    expect(text).toContain('31 appended');
    expect(text).toContain(
      '9 results paired with their call, 1 without their call kept as text, 1 call without a result',
    );
    expect(text).toContain('skipped        line 18: not valid JSON');
    expect(text).toMatch(/not imported\s+queue-operation x1, file-history-snapshot x1, progress x1/);

    const messages = await history(root, 'task--f9--csv--in_qa--qa');
    expect(messages).toHaveLength(31);
    expect(expectPaired(messages)).toEqual({ calls: 10, results: 9 });
    expect(messages[0]?.timestamp).toMatch(/^2025-08-14T09:/);
    expect(messages.filter((m) => m.metadata?.orphanToolResult === true)).toHaveLength(1);

    const again = await run(
      'import',
      FIXTURE,
      '--root',
      root,
      '--skip-invalid',
      '--feature',
      'f9',
      '--task',
      'csv',
      '--agent',
      'qa',
      '--state',
      'in_qa',
      '--json',
    );
    expect(again.code).toBe(1);
    expect(again.stdout()).toBe('');
    expect(again.stderr()).toContain('was already imported into task--f9--csv--in_qa--qa');
    expect(again.stderr()).toContain('its 31 messages are seq 0 to 30; nothing was imported');
    expect(again.stderr()).toContain('--append');
    expect(await history(root, 'task--f9--csv--in_qa--qa')).toHaveLength(31);
    expect(messages[0]?.metadata?.import).toMatchObject({ file: 'session.jsonl', messages: 31 });

    const appended = await run(
      'import',
      FIXTURE,
      '--root',
      root,
      '--skip-invalid',
      '--feature',
      'f9',
      '--task',
      'csv',
      '--agent',
      'qa',
      '--state',
      'in_qa',
      '--append',
      '--json',
    );
    expect(appended.code, appended.stderr()).toBe(0);
    expect(JSON.parse(appended.stdout())).toMatchObject({
      appended: 31,
      historyMessages: 62,
      complete: true,
    });
  });

  it('refuses the same content under another name, and accepts a changed file', async () => {
    const root = await tempRoot('dagent-cli-import-');
    const file = await writeTranscript(root, 'first.json', 2);
    const copy = path.join(root, 'copy.json');
    await copyFile(file, copy);
    const flags = ['--root', root, '--feature', 'f3', '--task', 'same', '--json'];
    expect((await run('import', file, ...flags)).code).toBe(0);
    const refused = await run('import', copy, ...flags);
    expect(refused.code).toBe(1);
    expect(refused.stderr()).toContain('was already imported');
    await appendFile(copy, '\n');
    const changed = await run('import', copy, ...flags);
    expect(changed.code, changed.stderr()).toBe(0);
    expect(JSON.parse(changed.stdout())).toMatchObject({ appended: 8, historyMessages: 16 });
  });

  it('resumes an interrupted import where it stopped instead of repeating what it appended', async () => {
    const root = await tempRoot('dagent-cli-import-');
    const file = await writeTranscript(root, 'cut.json', 5);
    const id = 'task--import--cut--in_dev--dev';
    // What an import killed after its 7th append leaves: the marked first message and 6 more.
    const { transcript } = await readTranscriptFile(file);
    const mark = {
      sha256: await fileSha256(file),
      file: 'cut.json',
      messages: 20,
      at: '2026-01-02T03:04:05.000Z',
    };
    const runtime = await createSessionRuntime({ root });
    try {
      await runtime.createSession({
        type: 'task',
        agentType: 'dev',
        featureId: 'import',
        taskId: 'cut',
        taskState: 'in_dev',
      });
      for (const [i, m] of transcript.messages.slice(0, 7).entries())
        await runtime.addMessage(id, i === 0 ? withImportMark(m, mark) : m);
    } finally {
      await runtime.close();
    }

    const resumed = await run('import', file, '--root', root, '--json');
    expect(resumed.code, resumed.stderr()).toBe(0);
    expect(JSON.parse(resumed.stdout())).toMatchObject({
      appended: 13,
      historyMessages: 20,
      complete: true,
      resumed: { at: mark.at, firstSeq: 0, present: 7 },
    });
    const messages = await history(root, id);
    expect(messages.map((m) => [m.role, m.content])).toEqual(
      transcript.messages.map((m) => [m.role, m.content]),
    );
    expect(messages.filter((m) => m.metadata?.import !== undefined)).toHaveLength(1);

    const again = await run('import', file, '--root', root);
    expect(again.code).toBe(1);
    expect(again.stderr()).toContain('its 20 messages are seq 0 to 19; nothing was imported');
  });

  it('refuses to resume an interrupted import whose messages are not the file', async () => {
    const root = await tempRoot('dagent-cli-import-');
    const file = await writeTranscript(root, 'cut.json', 2);
    const id = 'task--import--cut--in_dev--dev';
    const { transcript } = await readTranscriptFile(file);
    const mark = {
      sha256: await fileSha256(file),
      file: 'cut.json',
      messages: 8,
      at: '2026-01-02T03:04:05.000Z',
    };
    const runtime = await createSessionRuntime({ root });
    try {
      await runtime.createSession({
        type: 'task',
        agentType: 'dev',
        featureId: 'import',
        taskId: 'cut',
        taskState: 'in_dev',
      });
      await runtime.addMessage(id, withImportMark(transcript.messages[0]!, mark));
      await runtime.addMessage(id, { role: 'assistant', content: 'not from the file' });
    } finally {
      await runtime.close();
    }
    const refused = await run('import', file, '--root', root);
    expect(refused.code).toBe(1);
    expect(refused.stderr()).toContain("seq 1 is not the file's message 1, so it cannot be resumed");
    expect(await history(root, id)).toHaveLength(2);
  });

  it('makes a feature session from --feature alone and refuses --state without --task', async () => {
    const root = await tempRoot('dagent-cli-import-');
    const file = await writeTranscript(root, 't.json', 1);
    const r = await run('import', file, '--root', root, '--feature', 'f2', '--agent', 'pm', '--json');
    expect(JSON.parse(r.stdout())).toMatchObject({ sessionId: 'feature--f2--pm', appended: 4 });
    const bad = await run('import', file, '--root', root, '--feature', 'f2', '--state', 'in_qa');
    expect(bad.code).toBe(1);
    expect(bad.stderr()).toContain('--state is the state of a task');
    const badKey = await run('import', file, '--root', root, '--task', 'a--b');
    expect(badKey.code).toBe(1);
    expect(badKey.stderr()).toContain('(INVALID_KEY)');
    const missing = await run('import', path.join(root, 'nope.json'), '--root', root);
    expect(missing.code).toBe(1);
    expect(missing.stderr()).toContain('no such file');
  });
});

describe('replay', () => {
  it(
    'replays a transcript into --root with the compaction table, ' +
      'and refuses a second replay without --append',
    async () => {
      const root = await tempRoot('dagent-cli-replay-');
      const file = await writeTranscript(root, 'long.json', 40, 60);
      const r = await run('replay', file, '--root', root, '--max-tokens', '12000');
      expect(r.code, r.stderr()).toBe(0);
      const text = r.stdout();
      expect(text).toContain('through session task--replay--long--in_dev--dev');
      expect(text).toContain('160 replayed; history holds 160 (every message, identical, in order)');
      expect(text).toMatch(/#\s+after msg\s+tokens before -> after\s+messages folded\s+ms/);
      expect(text).toMatch(/\n\s+1\s+\d+\s+[\d,]+ -> [\d,]+\s+\d+\s+\d+/);
      expect(text).toContain('0 over the limit');

      const twice = await run('replay', file, '--root', root);
      expect(twice.code).toBe(1);
      expect(twice.stderr()).toContain('already holds 160 messages; pass --append');

      const json = await run(
        'replay',
        file,
        '--root',
        root,
        '--task',
        'second',
        '--max-tokens',
        '12000',
        '--json',
      );
      const report = JSON.parse(json.stdout()) as {
        sessionId: string;
        historyIntact: boolean;
        compactions: unknown[];
        requestsOverLimit: number;
      };
      expect(report).toMatchObject({
        sessionId: 'task--replay--second--in_dev--dev',
        historyIntact: true,
        requestsOverLimit: 0,
      });
      expect(report.compactions.length).toBeGreaterThan(0);
    },
  );

  it('replays a Claude Code log too', async () => {
    const root = await tempRoot('dagent-cli-replay-');
    const r = await run('replay', FIXTURE, '--root', root, '--skip-invalid', '--json');
    expect(r.code, r.stderr()).toBe(0);
    expect(JSON.parse(r.stdout())).toMatchObject({
      format: 'claude-code',
      messages: 31,
      historyIntact: true,
      skipped: [{ line: 18 }],
    });
  });
});
