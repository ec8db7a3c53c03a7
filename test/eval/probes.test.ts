/**
 * The evaluation's probes on a small hand-written transcript: which facts they derive and which
 * texts recall them. The probes are the measure, so they are tested like code.
 */
import { describe, expect, it } from 'vitest';
import { normalise, probeFacts, type Fact } from './probes.js';
import type { RawMessage } from './raw-transcript.js';

const transcript: RawMessage[] = [
  { role: 'user', content: 'Fix the CSV exporter and keep the test as the spec.' },
  { role: 'assistant', content: 'Bash(cd /repo && npm test)', toolName: 'Bash' },
  { role: 'tool', content: '  ⎿  Error: 1 failed, 3 passed', toolName: 'Bash' },
  { role: 'assistant', content: 'Update(src/export/csv_writer.ts)', toolName: 'Update' },
  { role: 'tool', content: '  ⎿  Updated src/export/csv_writer.ts with 1 addition', toolName: 'Update' },
  { role: 'assistant', content: 'The `quote_field` helper now doubles quotes; `quote_field` is used twice.' },
  { role: 'assistant', content: 'Bash(npm test)', toolName: 'Bash' },
  { role: 'tool', content: '  ⎿  4 passed', toolName: 'Bash' },
  { role: 'assistant', content: 'Bash(npm run lint)', toolName: 'Bash' },
  { role: 'tool', content: '  ⎿  Error: 2 errors', toolName: 'Bash' },
  { role: 'user', content: 'Also call quote_field from the TSV writer.' },
  { role: 'assistant', content: 'Write(file_path: src/export/tsv.ts)', toolName: 'Write' },
  { role: 'tool', content: '  ⎿  User rejected write to src/export/tsv.ts', toolName: 'Write' },
  { role: 'user', content: 'ok' },
].map((m, index) => ({ ...m, index }) as RawMessage);

const facts = probeFacts(transcript);
const byKind = (kind: Fact['kind']) => facts.filter((f) => f.kind === kind);

describe('probe facts', () => {
  it('derives one fact per file edited successfully, by its last two path components', () => {
    expect(byKind('file').map((f) => f.label)).toEqual(['export/csv_writer.ts']);
  });

  it('keeps the last run of commands run at least twice, set-up prefixes removed', () => {
    expect(byKind('command').map((f) => f.label)).toEqual(['npm test (ok)']);
  });

  it('keeps failures with no later success of the same target as unresolved errors', () => {
    expect(byKind('error').map((f) => f.label)).toEqual(['npm run lint', 'Write src/export/tsv.ts']);
  });

  it('keeps user messages of at least ten characters, and names mentioned in three messages', () => {
    expect(byKind('user').map((f) => f.label)).toEqual([
      'fix the csv exporter and keep the test as the spec.',
      'also call quote_field from the tsv writer.',
    ]);
    expect(byKind('identifier').map((f) => f.label)).toEqual([]);
    const more = probeFacts([
      ...transcript,
      { index: 14, role: 'assistant', content: 'Calling quote_field again.' },
    ]);
    expect(more.filter((f) => f.kind === 'identifier').map((f) => f.label)).toEqual(['quote_field']);
  });
});

describe('recall rules', () => {
  const recalled = (label: string, text: string) =>
    facts.find((f) => f.label === label)!.recalled(normalise(text));

  it('finds a file by its last two components, whatever the prefix', () => {
    expect(recalled('export/csv_writer.ts', '- edited /repo/src/export/csv_writer.ts')).toBe(true);
    expect(recalled('export/csv_writer.ts', '- edited csv_writer.ts')).toBe(false);
  });

  it('needs a command with an outcome of the right kind after it', () => {
    expect(recalled('npm test (ok)', '`npm test`: passed (4)')).toBe(true);
    expect(recalled('npm test (ok)', '`npm test`: failed')).toBe(false);
    expect(recalled('npm test (ok)', 'passed: `npm test`')).toBe(false);
    // The verbatim call and result count as well.
    expect(recalled('npm test (ok)', 'Bash(npm test)\n  ⎿  4 passed')).toBe(true);
  });

  it('needs an error to be named with a failure', () => {
    expect(recalled('npm run lint', '`npm run lint` failed: 2 errors')).toBe(true);
    expect(recalled('npm run lint', '`npm run lint`')).toBe(false);
    expect(recalled('Write src/export/tsv.ts', 'write to src/export/tsv.ts was rejected by the user')).toBe(
      true,
    );
  });

  it('needs the first words of the user, whitespace and case aside', () => {
    expect(
      recalled(
        'fix the csv exporter and keep the test as the spec.',
        'FIX the CSV\n exporter and keep the test as the spec.',
      ),
    ).toBe(true);
    expect(recalled('fix the csv exporter and keep the test as the spec.', 'fix the csv exporter')).toBe(
      false,
    );
  });
});
