/**
 * The error codes as a host sees them: the list exported from the root entry, and the table of
 * docs/embedding.md that says what each means and what to do.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';

/** The codes named in the first column of docs/embedding.md's "Error codes" table. */
async function documentedCodes(): Promise<{ session: string[]; transport: string[] }> {
  const doc = await readFile(new URL('../../docs/embedding.md', import.meta.url), 'utf8');
  const table = doc.slice(
    doc.indexOf('## Error codes'),
    doc.indexOf('\n## ', doc.indexOf('## Error codes') + 1),
  );
  const session: string[] = [];
  const transport: string[] = [];
  for (const row of table.split('\n').filter((line) => line.startsWith('| `'))) {
    const [first, meaning] = row.split(' | ');
    const names = [...(first ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] ?? '');
    // `COMPACTOR_UNAVAILABLE` / `_TIMEOUT`: a suffix shares the first name's prefix.
    const full = names.map((n) => (n.startsWith('_') ? names[0]?.replace(/_[A-Z]+$/, '') + n : n));
    (meaning?.includes('HTTP transport') || full.includes('INTERNAL_ERROR') ? transport : session).push(
      ...full,
    );
  }
  return { session, transport };
}

describe('error codes', () => {
  it('are exported from the root entry, with the check its TSDoc shows', () => {
    expect(root.SESSION_ERROR_CODES).toContain('IO_ERROR');
    expect(root.isSessionErrorCode('IO_ERROR')).toBe(true);
    expect(root.isSessionErrorCode('EIO')).toBe(false);
    expect(new root.SessionError('SESSION_NOT_FOUND', 'runtime', 'no such session').code).toBe(
      'SESSION_NOT_FOUND',
    );
  });

  it('are each explained in docs/embedding.md, which names no code that does not exist', async () => {
    const { session, transport } = await documentedCodes();
    expect([...session].sort()).toEqual([...root.SESSION_ERROR_CODES].sort());
    for (const code of transport) expect(root.isSessionErrorCode(code)).toBe(false);
  });
});
