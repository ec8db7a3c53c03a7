import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MessageInput } from '../../src/core/types.js';
import { loadTranscript, parseTranscript } from '../../src/integration/transcript.js';
import { makeDemoConversation, type SourceFile } from '../../scripts/make-demo-conversation.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/demo-conversation.json', import.meta.url));

/** Every tool_result answers one earlier tool_use, and every tool_use is answered. */
function expectFullyPaired(messages: readonly MessageInput[]): void {
  const pending = new Set<string>();
  const answered = new Set<string>();
  for (const m of messages) {
    expect(m.metadata?.orphanToolResult).toBeUndefined();
    if (typeof m.content === 'string') continue;
    for (const block of m.content) {
      if (block.type === 'tool_use') pending.add(block.id);
      if (block.type === 'tool_result') {
        expect(pending.has(block.tool_use_id), `${block.tool_use_id} answers an earlier call`).toBe(true);
        expect(answered.has(block.tool_use_id)).toBe(false);
        pending.delete(block.tool_use_id);
        answered.add(block.tool_use_id);
      }
    }
  }
  expect([...pending]).toEqual([]);
}

describe('fixtures/demo-conversation.json', () => {
  it('parses as a transcript, with at least 300 messages, every tool result paired', async () => {
    const t = await loadTranscript(FIXTURE);
    expect(t.messages.length).toBeGreaterThanOrEqual(300);
    expect(t.messages.length).toBeLessThanOrEqual(700);
    expect(t.license).toBe('MIT');
    expectFullyPaired(t.messages);
  });

  it('is big enough to compact a 100k-token session several times, and small enough to commit', async () => {
    const { size } = await stat(FIXTURE);
    expect(size).toBeLessThan(2 * 1024 * 1024);
    const json = JSON.parse(await readFile(FIXTURE, 'utf8')) as {
      messages: { content: string }[];
      meta: { approx_tokens: number };
    };
    const approx = json.messages.reduce((n, m) => n + Math.ceil(m.content.length / 4), 0);
    expect(json.meta.approx_tokens).toBe(approx);
    expect(approx).toBeGreaterThan(250_000);
    expect(approx).toBeLessThan(500_000);
  });

  it('records decisions, a blocker that is resolved later, TODOs and progress notes', async () => {
    const json = JSON.parse(await readFile(FIXTURE, 'utf8')) as {
      messages: { role: string; content: string }[];
    };
    const said = json.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
    const first = (prefix: RegExp): number => said.findIndex((c) => prefix.test(c));
    expect(first(/^Decided: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^TODO: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^Progress: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^Blocked: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^Resolved: /m)).toBeGreaterThan(first(/^Blocked: /m));
    expect(json.messages.some((m) => m.role === 'tool' && /1 failed/.test(m.content))).toBe(true);
  });
});

describe('makeDemoConversation', () => {
  const files: SourceFile[] = [
    {
      path: 'src/store/b.ts',
      text: Array.from({ length: 400 }, (_, i) => `export const b${i} = ${i}; // rename fsync`).join('\n'),
    },
    { path: 'src/core/a.ts', text: 'export function a(): number {\n  return 1;\n}\n' },
    { path: 'README.md', text: '# demo\n\n## Limits\n\nTODO: none\n' },
  ];

  it('is deterministic: the same sources give the same conversation, whatever their order', () => {
    const one = makeDemoConversation(files, { targetTokens: 30_000, maxMessages: 300 });
    const two = makeDemoConversation([...files].reverse(), { targetTokens: 30_000, maxMessages: 300 });
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
  });

  it('respects the message cap and produces a transcript that pairs every call', () => {
    const demo = makeDemoConversation(files, { targetTokens: 1_000_000, maxMessages: 320 });
    expect(demo.messages.length).toBeLessThanOrEqual(320);
    expect(demo.messages.length).toBeGreaterThan(300);
    expectFullyPaired(parseTranscript(demo).messages);
  });

  it('refuses to script a session over nothing', () => {
    expect(() => makeDemoConversation([])).toThrow(/no source files/);
  });
});
