import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { MessageInput } from '../../src/core/types.js';
import { loadTranscript, parseTranscript, sanitizeToolName } from '../../src/integration/transcript.js';

const TRANSCRIPTS = fileURLToPath(new URL('../../../shared/transcripts/', import.meta.url));
const hasTranscripts = existsSync(TRANSCRIPTS);

/** Checks that every tool_result answers exactly one earlier, distinct tool_use. */
function expectPaired(messages: readonly MessageInput[]): void {
  const called = new Set<string>();
  const answered = new Set<string>();
  for (const m of messages) {
    if (typeof m.content === 'string') continue;
    for (const block of m.content) {
      if (block.type === 'tool_use') {
        expect(called.has(block.id)).toBe(false);
        expect(block.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
        called.add(block.id);
      }
      if (block.type === 'tool_result') {
        expect(called.has(block.tool_use_id), `${block.tool_use_id} answers an earlier call`).toBe(true);
        expect(answered.has(block.tool_use_id), `${block.tool_use_id} answered once`).toBe(false);
        answered.add(block.tool_use_id);
      }
    }
  }
}

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isSessionError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    expect((e as Error).message).toMatch(/expected \{ "source"/);
    return;
  }
  expect.unreachable('should have thrown');
}

describe('sanitizeToolName', () => {
  it('keeps API-safe names and replaces the rest', () => {
    expect(sanitizeToolName('Bash')).toBe('Bash');
    expect(sanitizeToolName('Update Todos')).toBe('Update_Todos');
    expect(sanitizeToolName('find_file')).toBe('find_file');
    expect(sanitizeToolName('')).toBe('tool');
    expect(sanitizeToolName('x'.repeat(100))).toHaveLength(64);
  });
});

describe('parseTranscript', () => {
  it('maps user, assistant, tool calls and results', () => {
    const t = parseTranscript({
      source: 'demo',
      license: 'MIT',
      system: 'be brief',
      meta: { format: 'x' },
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Let me look.' },
        { role: 'assistant', content: 'Bash(ls)', toolName: 'Bash' },
        { role: 'tool', content: 'README.md', toolName: 'Bash' },
      ],
    });
    expect(t).toMatchObject({ source: 'demo', license: 'MIT', system: 'be brief', meta: { format: 'x' } });
    expect(t.messages).toEqual([
      { role: 'user', content: 'hi', metadata: { transcriptIndex: 0 } },
      { role: 'assistant', content: 'Let me look.', metadata: { transcriptIndex: 1 } },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { call: 'Bash(ls)' } }],
        metadata: { transcriptIndex: 2, toolName: 'Bash' },
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'README.md' }],
        metadata: { transcriptIndex: 3, toolName: 'Bash' },
      },
    ]);
  });

  it('pairs parallel calls in order, preferring the same tool name', () => {
    const t = parseTranscript({
      source: 's',
      messages: [
        { role: 'assistant', content: 'Read(a)', toolName: 'Read' },
        { role: 'assistant', content: 'Bash(b)', toolName: 'Bash' },
        { role: 'assistant', content: 'Read(c)', toolName: 'Read' },
        { role: 'tool', content: 'b out', toolName: 'Bash' },
        { role: 'tool', content: 'a out', toolName: 'Read' },
        { role: 'tool', content: 'c out', toolName: 'Read' },
      ],
    });
    const pairs = t.messages
      .slice(3)
      .map((m) =>
        Array.isArray(m.content) && m.content[0]?.type === 'tool_result' ? m.content[0].tool_use_id : null,
      );
    expect(pairs).toEqual(['toolu_2', 'toolu_1', 'toolu_3']);
    expectPaired(t.messages);
  });

  it('falls back to the first pending call when no call has the same name', () => {
    const t = parseTranscript({
      source: 's',
      messages: [
        { role: 'assistant', content: 'x', toolName: 'Call' },
        { role: 'tool', content: 'y', toolName: 'Other' },
        { role: 'assistant', content: 'x', toolName: 'Call' },
        { role: 'tool', content: 'no name' },
      ],
    });
    expect(t.messages[1]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'y' }]);
    expect(t.messages[3]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_2', content: 'no name' },
    ]);
  });

  it('keeps a tool result without a pending call as a user text message', () => {
    const t = parseTranscript({
      source: 's',
      messages: [{ role: 'tool', content: 'stray output', toolName: 'Bash' }],
    });
    expect(t.messages).toEqual([
      {
        role: 'user',
        content: 'stray output',
        metadata: { transcriptIndex: 0, toolName: 'Bash', orphanToolResult: true },
      },
    ]);
  });

  it('leaves a call without a result as a tool_use and keeps counting ids', () => {
    const t = parseTranscript({
      source: 's',
      messages: [
        { role: 'assistant', content: 'submit', toolName: 'submit' },
        { role: 'user', content: 'next' },
        { role: 'assistant', content: 'ls', toolName: 'Bash' },
      ],
    });
    expect(t.messages).toHaveLength(3);
    expect(t.messages[2]?.content).toMatchObject([{ type: 'tool_use', id: 'toolu_2' }]);
  });

  it('uses the origin as source when the transcript has none', () => {
    expect(parseTranscript({ messages: [] }, 'file.json').source).toBe('file.json');
    expect(parseTranscript({ messages: [] }).source).toBe('unknown');
  });

  it('says which index and field is wrong, and what is expected', () => {
    expectInvalid(() => parseTranscript(null), /top level is null/);
    expectInvalid(() => parseTranscript([]), /top level is an array/);
    expectInvalid(
      () => parseTranscript({ source: 's' }, 'f.json'),
      /transcript f\.json: "messages" is missing, not an array/,
    );
    expectInvalid(() => parseTranscript({ source: 1, messages: [] }), /"source" is a number/);
    expectInvalid(() => parseTranscript({ messages: ['x'] }), /messages\[0\] is "x", not an object/);
    expectInvalid(
      () => parseTranscript({ messages: [{ role: 'system', content: 'x' }] }),
      /messages\[0\]\.role is "system"/,
    );
    expectInvalid(
      () =>
        parseTranscript({
          messages: [
            { role: 'user', content: 'ok' },
            { role: 'user', content: [{ type: 'text' }] },
          ],
        }),
      /messages\[1\]\.content is an array, not a string/,
    );
    expectInvalid(
      () => parseTranscript({ messages: [{ role: 'tool', content: 'x', toolName: 3 }] }),
      /messages\[0\]\.toolName is a number/,
    );
  });
});

describe('loadTranscript', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('loads a file and reports missing files and bad JSON clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dagent-transcript-'));
    dirs.push(dir);
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ source: 's', messages: [{ role: 'user', content: 'hi' }] }));
    expect((await loadTranscript(good)).messages).toHaveLength(1);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "messages": [');
    await expect(loadTranscript(bad)).rejects.toThrow(/not valid JSON/);
    await expect(loadTranscript(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: /no such file/,
    });
  });
});

describe.skipIf(!hasTranscripts)(
  `real transcripts ` +
    `in ${TRANSCRIPTS}${hasTranscripts ? '' : ' (SKIPPED: folder absent; it sits beside the project, not in a clone)'}`,
  () => {
    const files = hasTranscripts
      ? readdirSync(TRANSCRIPTS)
          .filter((f) => f.endsWith('.json'))
          .sort()
      : [];

    it('has the six transcripts', () => {
      expect(files).toHaveLength(6);
    });

    it.each(files)(
      '%s: no message dropped, every tool_result pairs with an earlier tool_use',
      async (file) => {
        const path = join(TRANSCRIPTS, file);
        const raw = JSON.parse(await readFile(path, 'utf8')) as { messages: unknown[]; system?: string };
        const t = await loadTranscript(path);
        expect(t.messages).toHaveLength(raw.messages.length);
        t.messages.forEach((m, i) => expect(m.metadata?.transcriptIndex).toBe(i));
        expectPaired(t.messages);
        expect(t.system).toBe(raw.system);
        expect(t.license).toMatch(/MIT|Apache-2\.0/);
      },
    );
  },
);
