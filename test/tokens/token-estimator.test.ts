import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import type { Checkpoint, CheckpointSummary, ContentBlock } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';
import { PNG_37X23 } from '../support/sdk-block-samples.js';
import { sharedCountingWorker } from '../../src/tokens/counting-worker.js';
import { encoderLoadCount, isEncoderLoaded } from '../../src/tokens/encoding-cache.js';
import {
  BLOCK_OVERHEAD_TOKENS,
  LOADING_HERE_CHARS_PER_TURN,
  MESSAGE_OVERHEAD_TOKENS,
  TiktokenEstimator,
  createTokenEstimator,
} from '../../src/tokens/token-estimator.js';

const require = createRequire(import.meta.url);
const reference = {
  cl100k_base: new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE),
  o200k_base: new Tiktoken(require('js-tiktoken/ranks/o200k_base') as TiktokenBPE),
};
const count = (encoding: keyof typeof reference, text: string) =>
  reference[encoding].encode(text, [], []).length;

const TRANSCRIPTS =
  process.env['DAGENT_TRANSCRIPTS'] ??
  fileURLToPath(new URL('../../../shared/transcripts/', import.meta.url));
const hasTranscripts = existsSync(TRANSCRIPTS);
const transcriptSuite = hasTranscripts
  ? 'against real transcripts'
  : `against real transcripts: SKIPPED, ${TRANSCRIPTS} is absent (set DAGENT_TRANSCRIPTS to the transcripts folder)`;

interface TranscriptMessage {
  role: string;
  content: string;
}
function transcripts(): Array<{ file: string; messages: TranscriptMessage[] }> {
  return readdirSync(TRANSCRIPTS)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      messages: (
        JSON.parse(readFileSync(`${TRANSCRIPTS}/${file}`, 'utf8')) as { messages: TranscriptMessage[] }
      ).messages,
    }));
}

const SAMPLES = [
  'hello world',
  'The quick brown fox jumps over the lazy dog.',
  'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
  '    indented\n\n\n\ttabs\r\nand CRLF   trailing   ',
  'Ünïcödé: café, naïve, 東京都, 한국어, emoji 🎉🚀👩‍👩‍👧, math ∑∫√',
  'numbers 1234567890 3.14159 -42 1e10',
  '<|endoftext|> is text here, not a special token',
  '```ts\nconst x = { "a": [1, 2, 3] };\n```',
  "it's they're we've I'd you'll",
];

describe('TiktokenEstimator (exact)', () => {
  it('is lazy: constructing an estimator loads nothing; one encoder per encoding is shared by every instance', () => {
    expect(isEncoderLoaded('o200k_base')).toBe(false);
    const first = new TiktokenEstimator({ encoding: 'o200k_base' });
    const second = createTokenEstimator({ encoding: 'o200k_base' });
    expect(isEncoderLoaded('o200k_base')).toBe(false);
    expect(first.estimate('hello')).toBe(1);
    expect(second.estimate('hello world')).toBe(2);
    new TiktokenEstimator({ encoding: 'o200k_base' }).warmUp();
    expect(encoderLoadCount('o200k_base')).toBe(1);
  });

  it('approximate mode never loads an encoding', () => {
    const approx = createTokenEstimator({ mode: 'approximate' });
    const before = encoderLoadCount('cl100k_base');
    expect(approx.estimate('some words to count')).toBeGreaterThan(0);
    expect(encoderLoadCount('cl100k_base')).toBe(before);
    expect(approx.name).toBe('approximate');
  });

  it.each(SAMPLES)('counts %j exactly as js-tiktoken does (cl100k_base and o200k_base)', (text) => {
    expect(createTokenEstimator().estimate(text)).toBe(count('cl100k_base', text));
    expect(createTokenEstimator({ encoding: 'o200k_base' }).estimate(text)).toBe(count('o200k_base', text));
  });

  it('names itself after its encoding', () => {
    expect(createTokenEstimator().name).toBe('tiktoken:cl100k_base');
    expect(createTokenEstimator({ encoding: 'o200k_base' }).name).toBe('tiktoken:o200k_base');
  });

  it('stays exact on long texts that are cut into chunks (spaces, and lines without spaces)', () => {
    const words = ['alpha', 'beta,', 'gamma.', 'δέλτα', '42', '(x)', 'foo_bar', '東京', "it's", '—'];
    let prose = '';
    for (let i = 0; prose.length < 70_000; i++)
      prose += (words[(i * 7) % words.length] ?? '') + (i % 13 === 0 ? '\n' : ' ');
    const lines = Array.from({ length: 6_000 }, (_, i) => `line${i}:value-${i * 31}`).join('\n');
    const estimator = createTokenEstimator();
    expect(estimator.estimate(prose)).toBe(count('cl100k_base', prose));
    expect(estimator.estimate(lines)).toBe(count('cl100k_base', lines));
  });

  it('returns for 2 MB without whitespace, with a plausible count', () => {
    const estimator = createTokenEstimator();
    const tokens = estimator.estimate('a'.repeat(2_000_000));
    expect(tokens).toBeGreaterThan(0);
    // js-tiktoken counts 8 a's per token on shorter runs.
    expect(tokens).toBeGreaterThan(200_000);
    expect(tokens).toBeLessThan(300_000);
    expect(estimator.estimate('─'.repeat(300_000) + ' end')).toBeGreaterThan(0);
    expect(estimator.estimate(' '.repeat(1_000_000))).toBeGreaterThan(0);
  });

  it('counts content blocks as they are sent, plus a per-block overhead', () => {
    const estimator = createTokenEstimator();
    const blocks: ContentBlock[] = [
      { type: 'text', text: 'Run the tests.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'npm test' } },
      { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '12 passed' }] },
      { type: 'thinking', thinking: 'The suite is green.', signature: 'sig' },
    ];
    const expected =
      count('cl100k_base', 'Run the tests.') +
      count('cl100k_base', 'Bash{"command":"npm test"}') +
      count('cl100k_base', '12 passed') +
      count('cl100k_base', 'The suite is green.') +
      4 * BLOCK_OVERHEAD_TOKENS;
    expect(estimator.estimateContent(blocks)).toBe(expected);
    expect(estimator.estimateContent('plain text')).toBe(count('cl100k_base', 'plain text'));
    expect(estimator.estimateMessage({ role: 'assistant', content: blocks })).toBe(
      expected + MESSAGE_OVERHEAD_TOKENS,
    );
    expect(estimator.estimateMessage({ role: 'user', content: '' })).toBe(MESSAGE_OVERHEAD_TOKENS);
  });

  it('estimateMessageLater counts blocks (tool calls, results, media) as estimateMessage does', async () => {
    const estimator = createTokenEstimator();
    const image = { type: 'base64', media_type: 'image/png', data: PNG_37X23 } as const;
    const blocks: ContentBlock[] = [
      { type: 'text', text: 'Run the tests.' },
      {
        type: 'tool_use',
        id: 'toolu_1',
        name: 'Bash',
        input: { command: 'npm test', data: 'Q'.repeat(300) },
      },
      { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '12 passed' }] },
      { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'image', source: image }] },
      { type: 'image', source: image },
      { type: 'thinking', thinking: 'The suite is green.', signature: 'sig' },
    ];
    for (const content of [blocks, blocks.slice(1, 3), 'plain text']) {
      const message = { role: 'assistant' as const, content };
      expect(await estimator.estimateMessageLater(message)).toBe(estimator.estimateMessage(message));
    }
  });

  it('estimateMessageLater with countHere counts on this thread at once, else on the worker', async () => {
    const estimator = createTokenEstimator();
    estimator.estimate('loads the encoder here');
    const worker = sharedCountingWorker();
    await worker.count('cl100k_base', ['loads the encoder on the worker']);
    expect(worker.ready('cl100k_base')).toBe(true);
    const blocks: ContentBlock[] = [
      { type: 'text', text: `Counted during the fdatasync ${Math.random()}.` },
      { type: 'tool_use', id: 'toolu_9', name: 'Read', input: { path: `src/${Math.random()}.ts` } },
    ];
    for (const content of [`a short reply ${Math.random()}`, blocks]) {
      const message = { role: 'assistant' as const, content };
      const settled = (p: Promise<number>) => {
        const seen = { value: undefined as number | undefined };
        void p.then((n) => (seen.value = n));
        return seen;
      };
      // Counted here: known before the event loop turns again.
      const here = settled(estimator.estimateMessageLater(message, { countHere: true }));
      // Through the worker (a text not seen before): not before the worker answers.
      const later = settled(
        estimator.estimateMessageLater({ role: 'user', content: `other ${Math.random()}` }),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(here.value).toBe(estimator.estimateMessage(message));
      expect(later.value).toBeUndefined();
    }
  });

  it('while the worker loads, a turn counts its first text and 16 K characters here, the rest there', async () => {
    const estimator = createTokenEstimator();
    estimator.estimate('loads the encoder here');
    const worker = sharedCountingWorker();
    await worker.close(); // the next request starts a new thread, which loads its encoding first
    expect(worker.ready('cl100k_base')).toBe(false);
    // 40 texts of 1,024 characters in one turn, as a burst of appends asks for them.
    const messages = Array.from({ length: 40 }, (_, i) => ({
      role: 'user' as const,
      content: `burst ${String(i).padStart(2, '0')} ${Math.random().toFixed(12)} `.padEnd(1024, 'word '),
    }));
    expect(messages.every((m) => m.content.length === 1024)).toBe(true);
    let settled = 0;
    const counts = messages.map((m) => estimator.estimateMessageLater(m));
    for (const p of counts) void p.then(() => settled++);
    // Counted here: settled within this turn's microtasks. Sent to the worker: not before it answers.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(settled).toBe(LOADING_HERE_CHARS_PER_TURN / 1024);
    expect(await Promise.all(counts)).toEqual(messages.map((m) => estimator.estimateMessage(m)));
  });

  it('estimateMessages is the sum of the stored tokens, never a re-tokenisation', () => {
    const estimator = createTokenEstimator();
    const messages = [
      { tokens: 1000, content: 'hi' },
      { tokens: 0, content: 'a much longer message that would count to more than zero' },
      { tokens: 7 },
    ];
    expect(estimator.estimateMessages(messages)).toBe(1007);
    expect(estimator.estimateMessages([])).toBe(0);
    const many = Array.from({ length: 100_000 }, () => ({ tokens: 3 }));
    expect(estimator.estimateMessages(many)).toBe(300_000);
  });

  it('estimateCheckpoint counts the checkpoint exactly as renderCheckpoint renders it', () => {
    const estimator = createTokenEstimator();
    const summary: CheckpointSummary = {
      completed: ['ran `npm test` (ok)', 'edited `src/cli.ts`'],
      inProgress: ['Add the --json flag'],
      pending: [],
      decisions: ['Use commander instead of a hand-written parser'],
      blockers: [],
    };
    const checkpoint: Checkpoint = {
      version: 3,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      summary,
      checks: [{ checkId: 'lint', passed: false, error: '2 problems' }],
      compactionInfo: {
        compactor: 'offline',
        messagesCompacted: 10,
        archivedThroughSeq: 9,
        archivedMessages: 10,
        archivedTokens: 1000,
        segment: 1,
        tokensBefore: 1000,
        tokensAfter: 100,
        durationMs: 5,
        chunks: 1,
        escalation: 0,
      },
      tokens: 0,
    };
    expect(estimator.estimateCheckpoint(summary)).toBe(count('cl100k_base', renderCheckpoint(summary)));
    expect(estimator.estimateCheckpoint(checkpoint)).toBe(
      count('cl100k_base', renderCheckpoint(summary, checkpoint.checks)),
    );
    expect(estimator.estimateCheckpoint(checkpoint)).toBeGreaterThan(estimator.estimateCheckpoint(summary));
    expect(
      estimator.estimateCheckpoint({
        completed: [],
        inProgress: [],
        pending: [],
        decisions: [],
        blockers: [],
      }),
    ).toBe(0);
  });

  it('rejects what is not text with INVALID_ARGUMENT from tokens', () => {
    const estimator = createTokenEstimator();
    const bad: unknown[] = [123, null, undefined, { text: 'x' }, ['a']];
    for (const value of bad) {
      const error = catchError(() => estimator.estimate(value as string));
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', origin: 'tokens' });
    }
    expect(catchError(() => estimator.estimateContent(42 as unknown as string))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(catchError(() => estimator.estimateMessages([{ tokens: Number.NaN }]))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(catchError(() => estimator.estimateMessages([{ tokens: -1 }]))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(
      catchError(() => estimator.estimateCheckpoint(null as unknown as CheckpointSummary)),
    ).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(catchError(() => createTokenEstimator({ encoding: 'gpt2' as 'cl100k_base' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(catchError(() => createTokenEstimator({ mode: 'fast' as 'exact' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe(`token counts ${transcriptSuite}`, () => {
  it.skipIf(!hasTranscripts)('exact mode matches js-tiktoken on (nearly) every real message', () => {
    const estimator = createTokenEstimator();
    let messages = 0;
    let equal = 0;
    let ours = 0;
    let theirs = 0;
    for (const { messages: list } of transcripts()) {
      for (const message of list) {
        const a = estimator.estimate(message.content);
        const b = count('cl100k_base', message.content);
        messages++;
        if (a === b) equal++;
        ours += a;
        theirs += b;
      }
    }
    // Only messages with runs of more than 256 bytes of one kind (console box lines) may differ.
    expect(equal / messages).toBeGreaterThan(0.99);
    expect(Math.abs(ours - theirs) / theirs).toBeLessThan(0.005);
  });

  it.skipIf(!hasTranscripts)(
    'approximate mode is within 15% of cl100k for prose and tool output of every transcript',
    () => {
      const approx = createTokenEstimator({ mode: 'approximate' });
      for (const { file, messages } of transcripts()) {
        for (const kind of ['prose', 'tool'] as const) {
          const texts = messages
            .filter((m) => (m.role === 'tool') === (kind === 'tool'))
            .map((m) => m.content);
          if (texts.length === 0) continue;
          const exact = texts.reduce((sum, text) => sum + count('cl100k_base', text), 0);
          const estimate = texts.reduce((sum, text) => sum + approx.estimate(text), 0);
          expect({ file, kind, ratio: Math.abs(estimate / exact - 1) < 0.15 }).toEqual({
            file,
            kind,
            ratio: true,
          });
        }
      }
    },
  );
});

describe('approximate mode on code', () => {
  it('is within 15% of cl100k on TypeScript source', () => {
    const approx = createTokenEstimator({ mode: 'approximate' });
    const files = [
      '../../src/tokens/token-estimator.ts',
      '../../src/request/format.ts',
      '../../src/core/types.ts',
    ];
    const source = files.map((file) => readFileSync(new URL(file, import.meta.url), 'utf8')).join('\n');
    const exact = count('cl100k_base', source);
    expect(Math.abs(approx.estimate(source) / exact - 1)).toBeLessThan(0.15);
  });

  it('handles empty, huge and unicode text', () => {
    const approx = createTokenEstimator({ mode: 'approximate' });
    expect(approx.estimate('')).toBe(0);
    expect(approx.estimate('a'.repeat(2_000_000))).toBeGreaterThan(0);
    expect(approx.estimate('🎉'.repeat(10))).toBeGreaterThanOrEqual(10);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
