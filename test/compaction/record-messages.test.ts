/**
 * lastPath: the last file path of a text (what a Cursor edit that names no file edits), found by
 * running the path scan only on the runs of path characters that hold an extension. Checked
 * against the scan of the whole text on generated text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lastPath } from '../../src/compaction/ledger/record-messages.js';

/** The scan of the whole text, as lastPath read it before: its last match. */
function scanned(text: string): string | undefined {
  const found = text.match(/(?:[\w@.-]+\/)*[\w@-][\w@.-]*\.[A-Za-z][\w]{0,7}\b/g);
  return found?.[found.length - 1];
}

describe('lastPath', () => {
  it('finds the last path of prose', () => {
    expect(lastPath('I changed src/parser.ts and then docs/usage.md.')).toBe('docs/usage.md');
    expect(lastPath('see @scope/pkg-name/index.d.ts, version 1.2.3')).toBe('@scope/pkg-name/index.d.ts');
    expect(lastPath('a.md, then e.g. this')).toBe('e.g');
    expect(lastPath('no path here, only words. And numbers 1.5')).toBeUndefined();
    expect(lastPath(`${'a'.repeat(5_000)} then app.py`)).toBe('app.py');
  });

  it('finds what the scan of the whole text finds, on generated text', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'src',
        'a',
        'x_y',
        'README',
        'file',
        '.ts',
        '.md',
        '.d.ts',
        '.5',
        '.json5',
        '.tar.gz',
        '.x123456789',
        '/',
        '//',
        './',
        '../',
        '@',
        '-',
        '_',
        '.',
        '..',
        ' ',
        '\n',
        ', ',
        '(',
        ')',
        '`',
        ':',
        'é',
        'ü.py',
        '日本',
        '$',
        '\t',
      ),
      fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/),
      fc.stringMatching(/^[\w@./-]{1,20}$/),
      fc.integer({ min: 90, max: 400 }).map((n) => 'f'.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('');
        expect(lastPath(text)).toBe(scanned(text));
      }),
      { numRuns: 3_000 },
    );
  });
});
