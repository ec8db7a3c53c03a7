/**
 * `nextCandidate` finds the long homogeneous runs of a text (those whose count is extrapolated)
 * with a one-pass scan before the Unicode regex: it must return exactly the matches of the regex
 * run over the whole text, or counts would change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextCandidate, possibleRunEnd } from '../../src/tokens/exact-count.js';

// The regex as countExact ran it over the whole text before the scan.
const REFERENCE = /[\p{L}\p{M}]{86,}|[^\s\p{L}\p{N}]{86,}|\s{86,}/gu;

function scanned(text: string): [number, string][] {
  const out: [number, string][] = [];
  for (let m = nextCandidate(text, 0); m; m = nextCandidate(text, m.index + m[0].length))
    out.push([m.index, m[0]]);
  return out;
}

const reference = (text: string): [number, string][] =>
  [...text.matchAll(REFERENCE)].map((m) => [m.index, m[0]]);

// Pieces of every class the regex tells apart: ASCII letters, digits, spaces and punctuation,
// accented letters, combining marks (letters and punctuation both), box drawing, CJK, emoji
// (surrogate pairs), non-ASCII spaces and digits, a lone surrogate.
const PIECES = [
  'a',
  'Z',
  '7',
  ' ',
  '\n',
  '\t',
  '-',
  '=',
  '.',
  'é',
  '\u0301',
  '─',
  '╭',
  '漢',
  '😀',
  '\u00a0',
  '\u3000',
  '٣',
  '\ud800',
];
const runs = fc.array(
  fc.tuple(fc.constantFrom(...PIECES), fc.integer({ min: 1, max: 120 })).map(([p, n]) => p.repeat(n)),
  { maxLength: 12 },
);

describe('nextCandidate', () => {
  it('returns the matches of the regex over the whole text, for texts built of runs of every class', () => {
    fc.assert(
      fc.property(runs, (parts) => {
        const text = parts.join('');
        expect(scanned(text)).toEqual(reference(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('returns them for box-drawn tables, marks between letters and emoji runs', () => {
    const texts = [
      `╭${'─'.repeat(120)}╮\n│ cell │\n╰${'─'.repeat(120)}╯`,
      `${'e\u0301'.repeat(60)}${'-'.repeat(100)}`,
      `${'😀'.repeat(50)} ${'😀'.repeat(90)}`,
      `${' '.repeat(200)}x${'\u0301'.repeat(100)}`,
      `${'a'.repeat(85)} ${'b'.repeat(86)}`,
    ];
    for (const text of texts) expect(scanned(text)).toEqual(reference(text));
    expect(reference(texts[0]!)).toHaveLength(2);
  });

  it('returns whole runs longer than the regex takes at once (4,096 code points), as the regex would', () => {
    const long = fc.array(
      fc.tuple(fc.constantFrom('a', '─', '😀', ' ', 'é', '\u0301', '7'), fc.integer({ min: 1, max: 10_000 })),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(long, (parts) => {
        const text = parts.map(([p, n]) => p.repeat(n)).join('');
        expect(scanned(text)).toEqual(reference(text));
      }),
      { numRuns: 200 },
    );
  });

  it('returns a run of ten million letters whole, where the unbounded regex overflowed its stack', () => {
    const run = 'b'.repeat(10_000_000);
    const text = `start ${run} end`;
    expect(() => reference(text)).toThrow(RangeError);
    const found = scanned(text);
    expect(found).toHaveLength(1);
    expect(found[0]![0]).toBe(6);
    expect(found[0]![1].length).toBe(run.length);
  });

  it('scans ordinary prose and code without finding a window', () => {
    const prose = 'The tests pass; run `npm test -- --watch` (42 files, 1,337 assertions).\n'.repeat(300);
    expect(possibleRunEnd(prose, 0)).toBe(-1);
    expect(nextCandidate(prose, 0)).toBeNull();
  });
});
