/**
 * parseClaudeCodeLog on fixtures/claude-code/session.jsonl (a realistic session: split replies,
 * parallel calls, thinking, a summary, bookkeeping lines, a sidechain, an image, a result without
 * its call, a call without its result, a malformed line) and on small hand-made logs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { ContentBlock, MessageInput } from '../../src/core/types.js';
import { loadClaudeCodeLog, parseClaudeCodeLog } from '../../src/integration/claude-code-log.js';
import { detectTranscriptFormat, readTranscriptFile } from '../../src/integration/transcript-file.js';
import { toMessagesList, assertValidMessagesList } from '../../src/request/messages-list.js';
import { validateMessageInput } from '../../src/runtime/validate.js';

const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/claude-code/session.jsonl',
);
const blocks = (m: MessageInput | undefined): ContentBlock[] =>
  m && Array.isArray(m.content) ? m.content : [];
const cc = (m: MessageInput | undefined) => (m?.metadata?.claudeCode ?? {}) as Record<string, unknown>;
const line = (value: object) => JSON.stringify(value);

describe('parseClaudeCodeLog on the fixture', () => {
  it('refuses the malformed line by number unless asked to skip it', async () => {
    const error = await loadClaudeCodeLog(FIXTURE).catch((e: unknown) => e);
    expect(isSessionError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('session.jsonl line 18: not valid JSON');
    expect((error as Error).message).toContain('skipInvalid');
  });

  it('keeps every conversation line as one message, in order, with the stats to prove it', async () => {
    const log = await loadClaudeCodeLog(FIXTURE, { skipInvalid: true });
    expect(log.skipped).toEqual([{ line: 18, reason: expect.stringContaining('not valid JSON') as unknown }]);
    expect(log.stats).toEqual({
      lines: 35,
      messages: 31,
      toolCalls: 10,
      toolResults: 10,
      pairedResults: 9,
      orphanResults: 1,
      unansweredCalls: ['toolu_08Bash5'],
      sidechainMessages: 2,
      systemMessages: 2,
      unsupportedBlocks: 1,
      ignored: { 'queue-operation': 1, 'file-history-snapshot': 1, progress: 1 },
    });
    // 35 lines - 1 malformed - 3 bookkeeping = 31 messages, each naming its line, in file order.
    const lines = log.messages.map((m) => cc(m).line as number);
    expect(lines).toEqual([
      1,
      ...Array.from({ length: 12 }, (_, i) => i + 4),
      17,
      ...Array.from({ length: 17 }, (_, i) => i + 19),
    ]);
    expect(log.source).toBe(FIXTURE);
    expect(log.meta).toMatchObject({
      format: 'claude-code',
      sessionIds: ['7d3f1c52-4b8e-4f0a-9c61-2e5d8a90b1f4'],
      cwd: '/home/dev/csv-kit',
      gitBranch: 'fix/csv-quotes',
      summaries: ['Fix CSV exporter quoting of embedded quotes'],
    });
    for (const m of log.messages) expect(() => validateMessageInput(m)).not.toThrow();
  });

  it('pairs calls and results by id, parallel ones included, and keeps a result without its call as text', async () => {
    const log = await loadClaudeCodeLog(FIXTURE, { skipInvalid: true });
    const byLine = (n: number) => log.messages.find((m) => cc(m).line === n);
    // One reply written as four lines (thinking, text, two parallel Reads): four messages, one message.id.
    expect([5, 6, 7, 8].map((n) => cc(byLine(n)).messageId)).toEqual(Array(4).fill('msg_01HkQ2aZ3'));
    expect(blocks(byLine(5))[0]).toMatchObject({
      type: 'thinking',
      signature: expect.any(String) as unknown,
    });
    expect(blocks(byLine(9))).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'toolu_01Read1',
        content: expect.stringContaining('toCsvRow') as unknown,
      },
    ]);
    // Two calls in one line, both results in one line, one of them an error.
    expect(
      blocks(byLine(14))
        .filter((b) => b.type === 'tool_use')
        .map((b) => (b as { id: string }).id),
    ).toEqual(['toolu_03Bash1', 'toolu_03Bash2']);
    expect(blocks(byLine(15))).toMatchObject([
      { type: 'tool_result', tool_use_id: 'toolu_03Bash1', is_error: true },
      { type: 'tool_result', tool_use_id: 'toolu_03Bash2', content: '' },
    ]);
    // Results given as text blocks stay text blocks.
    expect(blocks(byLine(22))[0]).toMatchObject({
      type: 'tool_result',
      content: [{ type: 'text', text: expect.stringContaining('PASS') as unknown }],
    });
    // The result whose call is not in the log: text, flagged, nothing lost.
    const orphan = byLine(23)!;
    expect(orphan.role).toBe('user');
    expect(orphan.content).toBe(
      '[result of tool call toolu_00Lost9, whose call is not in this log]\nWrote 3 lines to notes/csv.md',
    );
    expect(orphan.metadata).toMatchObject({
      orphanToolResult: true,
      claudeCode: { orphanToolResults: [{ toolUseId: 'toolu_00Lost9', isError: false, reason: 'no-call' }] },
    });
  });

  it('turns summary and system lines into system messages and keeps the rest of each line in metadata', async () => {
    const log = await loadClaudeCodeLog(FIXTURE, { skipInvalid: true });
    const [summary] = log.messages;
    expect(summary).toMatchObject({
      role: 'system',
      content: 'Claude Code session summary: Fix CSV exporter quoting of embedded quotes',
    });
    expect(summary?.timestamp).toBe(log.messages[1]?.timestamp); // a leading line takes the first time
    const boundary = log.messages.find((m) => cc(m).subtype === 'compact_boundary');
    expect(boundary).toMatchObject({ role: 'system', content: 'Conversation compacted' });
    const compactSummary = log.messages.find((m) => cc(m).isCompactSummary === true);
    expect(compactSummary?.role).toBe('user');
    const sidechain = log.messages.filter((m) => cc(m).isSidechain === true);
    expect(sidechain.map((m) => m.role)).toEqual(['user', 'assistant']);
    const image = log.messages.find((m) => cc(m).unsupportedBlocks !== undefined)!;
    expect(blocks(image)[1]).toEqual({
      type: 'text',
      text: expect.stringMatching(
        /^\[image image\/png block, [\d,]+ base64 characters: not sent to the model/,
      ) as unknown,
    });
    expect(cc(image).unsupportedBlocks).toEqual([
      { path: 'content[1]', block: expect.objectContaining({ type: 'image' }) as unknown },
    ]);
    const assistant = log.messages.find((m) => m.role === 'assistant')!;
    expect(cc(assistant)).toMatchObject({
      requestId: 'req_011CRx1',
      model: 'claude-sonnet-4-20250514',
      usage: { output_tokens: 212 },
    });
    expect(assistant.timestamp).toMatch(/^2025-08-14T09:1\d:\d\d\.\d{3}Z$/);
  });

  it('gives a request the Messages API accepts', async () => {
    const log = await loadClaudeCodeLog(FIXTURE, { skipInvalid: true });
    const { messages } = toMessagesList(
      log.messages.map((m) => ({ role: m.role, content: m.content })),
      'Continue',
    );
    expect(() => assertValidMessagesList(messages)).not.toThrow();
  });
});

describe('parseClaudeCodeLog on small logs', () => {
  const user = (content: unknown, extra = {}) =>
    line({
      type: 'user',
      message: { role: 'user', content },
      timestamp: '2025-01-01T00:00:00.000Z',
      ...extra,
    });
  const assistant = (content: unknown) =>
    line({ type: 'assistant', message: { id: 'm1', role: 'assistant', content } });

  it('marks a result whose call already had one, and keeps mixed lines as blocks', () => {
    const log = parseClaudeCodeLog(
      [
        assistant([{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }]),
        user([{ type: 'tool_result', tool_use_id: 't1', content: 'a' }]),
        user([
          { type: 'tool_result', tool_use_id: 't1', content: 'again' },
          { type: 'text', text: 'and a note' },
        ]),
        '',
      ].join('\n'),
    );
    expect(log.stats).toMatchObject({ messages: 3, pairedResults: 1, orphanResults: 1, unansweredCalls: [] });
    const third = log.messages[2]!;
    expect(third.metadata?.orphanToolResult).toBeUndefined();
    expect(blocks(third)).toEqual([
      { type: 'text', text: '[result of tool call t1, whose call already had a result]\nagain' },
      { type: 'text', text: 'and a note' },
    ]);
    expect(log.source).toBe('Claude Code log');
  });

  it('names each kind of invalid line, or lists them all with skipInvalid', () => {
    const bad = [
      '[1,2]',
      line({ message: {} }),
      line({ type: 'user', message: { role: 'user' } }),
      line({ type: 'summary' }),
      '{"type":"user"',
    ];
    for (const [i, row] of bad.entries()) {
      const error = (() => {
        try {
          parseClaudeCodeLog(`${user('ok')}\n${row}\n${user('after')}`, 'x.jsonl');
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(error?.message, `case ${i}`).toContain('x.jsonl line 2: ');
    }
    expect(() => parseClaudeCodeLog(`${user('ok')}\n{"type":`)).toThrow(
      /line 2: not valid JSON .*the last line: the log may have been cut off/,
    );
    const skipped = parseClaudeCodeLog([user('ok'), ...bad].join('\n'), 'x.jsonl', { skipInvalid: true });
    expect(skipped.skipped.map((s) => s.line)).toEqual([2, 3, 4, 5, 6]);
    expect(skipped.messages).toHaveLength(1);
    expect(() => parseClaudeCodeLog('\n\n')).toThrow(/is empty/);
  });

  it('tells the formats apart', async () => {
    expect(detectTranscriptFormat(`${user('hi')}\n`, 'log.txt')).toBe('claude-code');
    expect(detectTranscriptFormat('{"source":"x","messages":[]}', 't.json')).toBe('transcript');
    expect(detectTranscriptFormat('not json', 'a.jsonl')).toBe('claude-code');
    expect(() => detectTranscriptFormat('{"hello":1}', 'a.json')).toThrow(
      /neither a transcript JSON .* nor a Claude Code session log/,
    );
    const read = await readTranscriptFile(FIXTURE, { skipInvalid: true });
    expect(read).toMatchObject({ format: 'claude-code', stats: { messages: 31 }, skipped: [{ line: 18 }] });
    expect(read.transcript.messages).toHaveLength(31);
  });
});
