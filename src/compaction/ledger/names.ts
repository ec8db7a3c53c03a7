/**
 * @internal Names in text: the functions, classes, tests, variables and modules a conversation is
 * about. A name is an identifier with an inner underscore or a camelCase hump (`_query_books`,
 * `listRecentBooks`), a dotted path of such identifiers (`apple_books.library`), or any
 * identifier-shaped code span (`` `ZISSAMPLE` ``). File names and paths are files, not names.
 */
import { entriesOf } from '../vocabulary/tool-table.js';

const WORD = /(?<![\w./@-])[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?![\w/@-])/g;
const CODE_SPAN = /`([A-Za-z_][A-Za-z0-9_.]{2,60})`/g;
/** Extensions that make a dotted word a file name. */
const FILE_EXTENSION = /\.(?:[a-z]{1,4}|jsonl|yaml|toml|lock|swift|plist|sqlite|ipynb)$/i;
const INNER_UNDERSCORE = /[a-z0-9]_[a-z0-9]/i;
const HUMP = /[a-z][A-Z]/;
const MIN_LENGTH = 4;
const MAX_LENGTH = 60;

/**
 * The distinct names of `text`, in order of first appearance.
 *
 * @param text - any text (prose, a command, a call).
 * @returns names, without duplicates.
 * @example
 * namesIn('`_query_books` calls listRecentBooks in apple_books/library.py') // ['_query_books', 'listRecentBooks']
 */
export function namesIn(text: string): string[] {
  // Every name is in a code span or has an inner underscore or a hump: text with none has no name.
  if (!text.includes('`') && !INNER_UNDERSCORE.test(text) && !HUMP.test(text)) return [];
  const found: string[] = [];
  const add = (name: string): void => {
    const bare = name.replace(/^\.+|\.+$/g, '');
    if (bare.length < MIN_LENGTH || bare.length > MAX_LENGTH || found.includes(bare)) return;
    if (FILE_EXTENSION.test(bare) || entriesOf(bare).length > 0) return;
    found.push(bare);
  };
  for (const match of text.matchAll(CODE_SPAN)) {
    const span = match[1] ?? '';
    if (/[A-Za-z]/.test(span) && (/[_A-Z]/.test(span) || span.includes('.'))) add(span);
  }
  // Only words with an inner underscore or a hump are names: the word scan runs only on the runs of
  // word characters holding one (see wordsAround), not over every word of the text.
  NAME_MARK.lastIndex = 0;
  for (let mark = NAME_MARK.exec(text); mark !== null; mark = NAME_MARK.exec(text)) {
    NAME_MARK.lastIndex = wordsAround(text, mark.index, (word) => {
      if (INNER_UNDERSCORE.test(word) || HUMP.test(word)) add(word);
    });
  }
  return found;
}

/** Where a name's word holds an inner underscore or a hump (INNER_UNDERSCORE or HUMP). */
const NAME_MARK = /[A-Za-z0-9]_[A-Za-z0-9]|[a-z][A-Z]/g;

/**
 * @internal Hands `take` the matches of WORD in the run of `[\w.]` characters around `at`, in
 * order, and returns where the run ends. Every character of a match of WORD is one of these, so a
 * match lies within one run; the scan starts at the run's first character, where the scan of the
 * whole text would come to it (nothing between the previous run and this one can start a match),
 * so it finds exactly the whole text's matches in the run (its lookarounds read the text itself).
 */
function wordsAround(text: string, at: number, take: (word: string) => void): number {
  let start = at;
  while (start > 0 && isWordChar(text.charCodeAt(start - 1))) start--;
  let end = at;
  while (end < text.length && isWordChar(text.charCodeAt(end))) end++;
  WORD.lastIndex = start;
  for (let match = WORD.exec(text); match !== null && match.index < end; match = WORD.exec(text))
    take(match[0]);
  return end;
}

/** `[\w.]`: letters, digits, `_` and `.`. */
function isWordChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 95 ||
    code === 46
  );
}
