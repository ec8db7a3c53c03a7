/**
 * The demo's Dev conversation, scripted over the package's own files when the demo runs: its size
 * and content over this checkout's sources, determinism, and the compiled JavaScript an install
 * has instead of TypeScript sources.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MessageInput } from '../../src/core/types.js';
import { parseTranscript } from '../../src/integration/transcript.js';
import {
  collectSources,
  demoDevConversation,
  makeDemoConversation,
  type DemoConversation,
  type SourceFile,
} from '../../src/cli/demo-dev-conversation.js';
import { tempRoot } from '../helpers/temp-root.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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

describe("the demo's Dev conversation over this checkout", () => {
  let demo: DemoConversation;
  beforeAll(async () => {
    demo = await demoDevConversation(REPO);
  });

  it('parses as a transcript, with 300 to 700 messages, every tool result paired', () => {
    const t = parseTranscript(demo);
    expect(t.messages.length).toBeGreaterThanOrEqual(300);
    expect(t.messages.length).toBeLessThanOrEqual(700);
    expect(t.license).toBe('MIT');
    expectFullyPaired(t.messages);
  });

  it('is big enough to compact a 100k-token session several times', () => {
    const approx = demo.messages.reduce((n, m) => n + Math.ceil(m.content.length / 4), 0);
    expect(demo.meta.approx_tokens).toBe(approx);
    expect(approx).toBeGreaterThan(250_000);
    expect(approx).toBeLessThan(500_000);
    expect(demo.meta.files).toContain('src/runtime/create-session-runtime.ts');
  });

  it('records decisions, a blocker that is resolved later, TODOs and progress notes', () => {
    const said = demo.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
    const first = (prefix: RegExp): number => said.findIndex((c) => prefix.test(c));
    expect(first(/^Decided: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^TODO: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^Progress: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^Blocked: /m)).toBeGreaterThanOrEqual(0);
    expect(first(/^Resolved: /m)).toBeGreaterThan(first(/^Blocked: /m));
    expect(demo.messages.some((m) => m.role === 'tool' && /1 failed/.test(m.content))).toBe(true);
  });
});

describe('collectSources', () => {
  it("reads an install's compiled JavaScript when there are no TypeScript sources", async () => {
    const root = await tempRoot('dagent-demo-sources-');
    const put = async (file: string, text: string) => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    };
    await put('dist/src/store/b.js', 'export const b = 1; // rename fsync\n');
    await put('dist/src/store/b.d.ts', 'export declare const b = 1;\n');
    await put('dist/src/store/b.js.map', '{}');
    await put('dist/machines/m.js', 'export function m() { return 2; }\n');
    await put('docs/a.md', '# a\n\n## Limits\n\nnone\n');
    await put('README.md', '# demo\n');
    const files = await collectSources(root);
    expect(files.map((f) => f.path)).toEqual([
      'README.md',
      'dist/machines/m.js',
      'dist/src/store/b.js',
      'docs/a.md',
    ]);
    const demo = makeDemoConversation(files, { targetTokens: 20_000, maxMessages: 300 });
    expect(demo.messages.some((m) => m.content.includes('test/store/b.test.ts'))).toBe(true);
    expectFullyPaired(parseTranscript(demo).messages);
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
