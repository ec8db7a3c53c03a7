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
  for (const match of text.matchAll(WORD)) {
    const word = match[0];
    if (INNER_UNDERSCORE.test(word) || HUMP.test(word)) add(word);
  }
  return found;
}
