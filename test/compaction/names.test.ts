/**
 * namesIn: names in text, and text without any (no code span, no inner underscore, no hump)
 * skipped without running the word scan, which runs only where a word holds an inner underscore
 * or a hump. Checked against the scan of the whole text on generated text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { namesIn } from '../../src/compaction/ledger/names.js';
import { entriesOf } from '../../src/compaction/vocabulary/tool-table.js';

/** The scan without the shortcut: every code span and identifier-shaped word, as namesIn reads them. */
function scanned(text: string): string[] {
  const found: string[] = [];
  const add = (name: string): void => {
    const bare = name.replace(/^\.+|\.+$/g, '');
    if (bare.length < 4 || bare.length > 60 || found.includes(bare)) return;
    if (
      /\.(?:[a-z]{1,4}|jsonl|yaml|toml|lock|swift|plist|sqlite|ipynb)$/i.test(bare) ||
      entriesOf(bare).length > 0
    )
      return;
    found.push(bare);
  };
  for (const match of text.matchAll(/`([A-Za-z_][A-Za-z0-9_.]{2,60})`/g)) {
    const span = match[1] ?? '';
    if (/[A-Za-z]/.test(span) && (/[_A-Z]/.test(span) || span.includes('.'))) add(span);
  }
  for (const match of text.matchAll(
    /(?<![\w./@-])[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?![\w/@-])/g,
  )) {
    const word = match[0];
    if (/[a-z0-9]_[a-z0-9]/i.test(word) || /[a-z][A-Z]/.test(word)) add(word);
  }
  return found;
}

describe('namesIn', () => {
  it('finds the names the whole scan finds, in text with names and without', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'the',
        'Parser',
        'run',
        'tests',
        'ok.',
        'src/a.ts',
        'API',
        'A1',
        'x',
        ' ',
        '\n',
        '.',
        '`',
      ),
      fc.constantFrom(
        '_query_books',
        'listRecentBooks',
        'apple_books.library',
        '`ZISSAMPLE`',
        'a_b',
        'aB',
        'ÉtéBon',
      ),
      fc.string({ maxLength: 8 }),
    );
    const text = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(' '));
    fc.assert(
      fc.property(text, (value) => {
        expect(namesIn(value)).toEqual(scanned(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds what the whole scan finds where words meet paths, dots, dashes and at signs', () => {
    const piece = fc.oneof(
      fc.constantFrom('/', '@', '-', '.', '..', '_', '`', ' ', '\n', ':', 'é', 'src', 'a1', '9', 'x.py'),
      fc.constantFrom('_query_books', 'listRecentBooks', 'apple_books.library', 'a_b', 'aB', 'HTTPServer'),
      fc.stringMatching(/^[\w.@/-]{1,10}$/),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const value = parts.join('');
        expect(namesIn(value)).toEqual(scanned(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds camelCase, inner underscores and code spans; plain prose has none', () => {
    expect(namesIn('`_query_books` calls listRecentBooks in apple_books/library.py')).toEqual([
      '_query_books',
      'listRecentBooks',
    ]);
    expect(namesIn('The tests pass now. Next: the README.')).toEqual([]);
  });
});
