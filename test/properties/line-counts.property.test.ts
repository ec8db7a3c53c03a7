/**
 * Property: a text counted line by line (each distinct line once, `countByLines`) counts exactly
 * what the whole text counts, for both encodings; so a checkpoint's count is the same whether it
 * is counted whole or as a sum of remembered lines. Generated checkpoints and texts of every kind:
 * unicode, slashes and spaces at line starts, digits, long runs, rare spaces, byte order marks,
 * texts long enough to be counted in chunks. And text holding U+FEFF (a byte order mark), which
 * the encoder counts line by line (`countLinesApart`): the sum of its lines' counts is js-tiktoken's
 * count of the whole text.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import type { SessionLedger } from '../../src/core/ledger-types.js';
import type { CheckResult, CheckpointSummary } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';
import { getEncoder, type TokenEncoding } from '../../src/tokens/encoding-cache.js';
import { MAX_CHUNK, countExact } from '../../src/tokens/exact-count.js';
import { countByLines, countLinesApart, lineStarts } from '../../src/tokens/line-counts.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const ENCODINGS: TokenEncoding[] = ['cl100k_base', 'o200k_base'];

/** Pieces that meet at line starts in every way the tokenizers could join them. */
const fragment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('- ', '### ', '## ', '/', '//', '.\n//', '\n', '\n\n', ' ', '  ', '\t'),
  },
  { weight: 4, arbitrary: fc.constantFrom('.', ',', '!?', '`', '→', '×3', "'s", "'ll", '(x)', '- [x] ') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('word', 'Données', '测试', '🙂', 'ĳ', 'e\u0301', 'src/a.ts', 'npm test'),
  },
  { weight: 3, arbitrary: fc.stringMatching(/^[0-9]{1,7}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('\u00a0', '\u3000', '\u2028', '\r\n', '\u2003', '\ufeff', '\u205f'),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', '=', ' ', 'é', '9', '-'), fc.integer({ min: 80, max: 400 }))
      .map(([c, n]) => c.repeat(n)),
  },
);
const textArb = fc.array(fragment, { maxLength: 120 }).map((parts) => parts.join(''));

/** Texts past a chunk: many lines, or one line without spaces long enough to defeat the chunk cut. */
const longTextArb = fc.oneof(
  fc
    .tuple(fc.array(textArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 400 }))
    .map(([lines, times]) => Array.from({ length: times }, (_, i) => lines[i % lines.length]).join('\n- ')),
  fc
    .tuple(
      textArb,
      fc.integer({ min: MAX_CHUNK / 4, max: MAX_CHUNK + 5000 }),
      fc.constantFrom('7', 'ab.', '/x'),
    )
    .map(([head, n, unit]) => `${head}\n${unit.repeat(Math.ceil(n / unit.length))}\n- ${head}`),
);

const items = fc.array(textArb, { maxLength: 6 });
const summaryArb: fc.Arbitrary<CheckpointSummary> = fc.record(
  { goals: items, completed: items, inProgress: items, pending: items, decisions: items, blockers: items },
  { requiredKeys: ['completed', 'inProgress', 'pending', 'decisions', 'blockers'] },
);
const seq = fc.nat({ max: 500 });
const ledgerArb: fc.Arbitrary<SessionLedger> = fc.record({
  files: fc.array(
    fc.record({
      path: textArb,
      action: fc.constantFrom('edited', 'created', 'deleted', 'read'),
      seq,
      firstSeq: seq,
    }),
    { maxLength: 6 },
  ),
  commands: fc.array(
    fc.record({
      command: textArb,
      kind: fc.constantFrom('command', 'tool'),
      runs: fc.integer({ min: 1, max: 4 }),
      seq,
      status: fc.constantFrom('ok', 'failed', 'unknown'),
      exitCode: fc.integer({ min: 0, max: 2 }),
      error: textArb,
    }),
    { maxLength: 6 },
  ),
  problems: fc.array(fc.record({ key: textArb, text: textArb, since: seq, seq, count: fc.nat(3) }), {
    maxLength: 4,
  }),
  requests: fc.array(fc.record({ text: textArb, seq, correction: fc.boolean() }), { maxLength: 4 }),
  names: fc.array(fc.record({ name: textArb, mentions: fc.nat(4), seq }), { maxLength: 12 }),
  status: fc.option(fc.record({ text: textArb, seq, source: fc.constant('todos' as const) }), { nil: null }),
  throughSeq: seq,
  iterations: fc.nat(5),
  iterationLog: fc.array(fc.record({ iteration: fc.nat(9), text: textArb, seq }), { maxLength: 3 }),
}) as fc.Arbitrary<SessionLedger>;
const checksArb: fc.Arbitrary<CheckResult[]> = fc.array(
  fc.record({ checkId: textArb, passed: fc.boolean(), error: textArb }) as fc.Arbitrary<CheckResult>,
  { maxLength: 3 },
);

describe('counting by lines', () => {
  for (const encoding of ENCODINGS) {
    const encoder = getEncoder(encoding);
    const whole = (text: string) => countExact(encoder, text);

    it(`a text counts the same whole and as the sum of its lines (${encoding})`, () => {
      fc.assert(
        fc.property(fc.oneof(textArb, longTextArb), (text) => {
          expect(countByLines(text, whole, new Map())).toBe(whole(text));
        }),
        { numRuns: 300 },
      );
    });

    it(`a checkpoint counts the same whole and by remembered lines (${encoding})`, () => {
      const estimator = createTokenEstimator({ encoding });
      fc.assert(
        fc.property(summaryArb, ledgerArb, checksArb, (summary, ledger, checks) => {
          const rendered = renderCheckpoint(summary, checks, ledger);
          // Twice through the same estimator: the second count comes from remembered lines.
          expect(estimator.estimateCheckpoint({ summary, ledger, checks } as never)).toBe(whole(rendered));
          expect(estimator.estimateCheckpoint({ summary, ledger, checks } as never)).toBe(whole(rendered));
        }),
        { numRuns: 200 },
      );
    });
  }

  for (const encoding of ENCODINGS) {
    it(`text holding U+FEFF counts the same whole and as the sum of its lines (${encoding})`, () => {
      // js-tiktoken, the reference every persisted count was taken with, counting each line alone.
      const require = createRequire(import.meta.url);
      const reference = new Tiktoken(require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE);
      const count = (text: string) => reference.encode(text, [], []).length;
      const bom = fc.constantFrom(
        '\ufeff',
        '\n\ufeff',
        '\ufeff\n',
        '\n\ufeff\n',
        '\ufeffimport',
        ' \ufeff',
        '\ufeff2025',
      );
      const withBom = fc
        .tuple(fc.array(fc.oneof(fragment, bom), { maxLength: 80 }), bom)
        .map(([parts, mark]) => [...parts, mark].join(''));
      fc.assert(
        fc.property(withBom, (text) => {
          expect(countLinesApart(text, count)).toBe(count(text));
          // And the encoder, which counts the lines holding U+FEFF piece by piece, counts it so too.
          expect(getEncoder(encoding).count(text)).toBe(count(text));
        }),
        { numRuns: 500 },
      );
    });
  }

  it('cuts text holding U+FEFF after a line break, before neither whitespace (U+FEFF is one) nor a slash', () => {
    const lines: string[] = [];
    countLinesApart('a\ufeff\nb\n\ufeffc\n/d\n e\n\u2003f\nG\n', (line) => lines.push(line));
    expect(lines).toEqual(['a\ufeff\n', 'b\n\ufeffc\n/d\n e\n\u2003f\n', 'G\n']);
  });

  it('cuts after a line break, before neither whitespace nor a slash', () => {
    expect(lineStarts('## A\n\n### B\n- x\n/y\n z')).toEqual([0, 6, 12, 21]);
    // Counted whole: a byte order mark, a rare space, a stretch without a space longer than the gap.
    expect(lineStarts('a\n\ufeffb')).toBeNull();
    expect(lineStarts('a\n\u2003b')).toBeNull();
    expect(lineStarts(`- ${'x'.repeat(MAX_CHUNK)}`)).toBeNull();
  });
});
