import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateAll } from '../../src/migration/migrate.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { expectedMessages, legacyPath, placeLegacy } from './legacy-fixtures.js';

/** A corrupt file that cannot be migrated at all, even with skipInvalid. */
interface FileCase {
  fixture: string;
  kind: 'pm' | 'dev';
  reason: RegExp;
}

/** A file with invalid entries: each listed with its index and field; the valid ones migrate with skipInvalid. */
interface EntryCase {
  fixture: string;
  kind: 'pm' | 'dev';
  /** [index, field pattern] of every problem, in order. */
  problems: [number, RegExp][];
  valid: number[];
}

const FILE_CASES: FileCase[] = [
  { fixture: 'pm-malformed-json.json', kind: 'pm', reason: /chat\.json is not valid JSON \(.+\); repair it/ },
  {
    fixture: 'pm-not-an-object.json',
    kind: 'pm',
    reason: /must hold an object \{ "entries": \[\.\.\.\] \}, got a list of 2/,
  },
  { fixture: 'pm-missing-entries.json', kind: 'pm', reason: /has no "entries" list/ },
  { fixture: 'pm-entries-not-a-list.json', kind: 'pm', reason: /"entries" must be a list, got an object/ },
  { fixture: 'dev-malformed-json.json', kind: 'dev', reason: /session\.json is not valid JSON/ },
  {
    fixture: 'dev-missing-fields.json',
    kind: 'dev',
    reason: /"agentId" is missing; "startedAt" is missing; "messages" list is missing/,
  },
  {
    fixture: 'dev-mistyped-fields.json',
    kind: 'dev',
    reason: new RegExp(
      String.raw`"taskId" must be a string, got 7; "status" must be a string, got null; ` +
        String.raw`"startedAt" must be an ISO-8601 string or epoch milliseconds, got "soon"; ` +
        String.raw`"completedAt" must be an ISO-8601 string or epoch milliseconds when present, got 12`,
    ),
  },
  { fixture: 'dev-messages-not-a-list.json', kind: 'dev', reason: /"messages" must be a list, got "none"/ },
];

const ENTRY_CASES: EntryCase[] = [
  {
    fixture: 'pm-null-and-non-object-entries.json',
    kind: 'pm',
    problems: [
      [1, /^entries\[1\]$/],
      [2, /^entries\[2\]$/],
      [3, /^entries\[3\]$/],
      [4, /^entries\[4\]$/],
    ],
    valid: [0, 5],
  },
  {
    fixture: 'pm-mistyped-fields.json',
    kind: 'pm',
    problems: [
      [0, /\.role$/],
      [1, /\.content$/],
      [2, /\.timestamp$/],
      [3, /\.timestamp$/],
      [4, /\.media$/],
      [5, /\.media\[1\]$/],
      [6, /\.role$/],
    ],
    valid: [],
  },
  {
    fixture: 'pm-mixed.json',
    kind: 'pm',
    problems: [
      [1, /\.content$/],
      [3, /^entries\[3\]$/],
      [5, /\.role$/],
    ],
    valid: [0, 2, 4, 6],
  },
  {
    fixture: 'pm-deeply-nested.json',
    kind: 'pm',
    problems: [
      [1, /\.content$/],
      [2, /extra fields/],
      [3, /^entries\[3\]$/],
    ],
    valid: [0],
  },
  {
    fixture: 'dev-null-and-non-object-messages.json',
    kind: 'dev',
    problems: [
      [1, /^messages\[1\]$/],
      [2, /^messages\[2\]$/],
      [3, /^messages\[3\]$/],
    ],
    valid: [0, 4],
  },
  {
    fixture: 'dev-mixed.json',
    kind: 'dev',
    problems: [
      [1, /\.direction$/],
      [3, /\.type$/],
      [4, /\.content$/],
      [5, /\.metadata$/],
      [6, /\.metadata\.toolName$/],
      [7, /\.timestamp$/],
    ],
    valid: [0, 2, 8],
  },
  {
    fixture: 'dev-deeply-nested.json',
    kind: 'dev',
    problems: [
      [1, /\.metadata\.toolInput$/],
      [2, /\.metadata\.toolResult$/],
    ],
    valid: [0],
  },
];

async function rootWith(kind: 'pm' | 'dev', fixture: string): Promise<string> {
  const root = await tempRoot('dagent-corrupt-');
  await placeLegacy(root, kind, { fixture });
  return root;
}

describe('corrupt legacy files that cannot be migrated', () => {
  for (const c of FILE_CASES) {
    it(`${c.fixture}: a clear report naming the file; nothing written, even with skipInvalid`, async () => {
      const root = await rootWith(c.kind, c.fixture);
      const before = await snapshotDir(root);
      for (const skipInvalid of [false, true]) {
        const report = await migrateAll(root, { skipInvalid });
        expect(report.ok).toBe(false);
        expect(report.migrationId).toBeNull();
        expect(report.files).toHaveLength(1);
        expect(report.files[0]).toMatchObject({
          file: legacyPath(c.kind),
          status: 'invalid',
          messages: 0,
          backup: null,
        });
        expect(report.files[0]!.reason).toMatch(c.reason);
        expect(report.files[0]!.reason).toContain(legacyPath(c.kind));
        expect(await snapshotDir(root)).toEqual(before);
      }
    });
  }
});

describe('legacy files with invalid entries', () => {
  for (const c of ENTRY_CASES) {
    it(`${c.fixture}: every invalid entry listed with index and field; nothing written by default`, async () => {
      const root = await rootWith(c.kind, c.fixture);
      const before = await snapshotDir(root);
      const report = await migrateAll(root);
      const file = report.files[0]!;
      expect(file.status).toBe('invalid');
      expect(file.problems.map((p) => p.index)).toEqual(c.problems.map(([i]) => i));
      file.problems.forEach((p, i) => {
        expect(p.field).toMatch(c.problems[i]![1]);
        expect(p.reason.length).toBeGreaterThan(5);
      });
      const bad = new Set(c.problems.map(([i]) => i)).size;
      expect(file.reason).toContain(`${bad} of ${file.entries} entries are invalid; nothing was written`);
      expect(await snapshotDir(root)).toEqual(before);
    });

    it(`${c.fixture}: with skipInvalid the valid entries are migrated and each skipped one is listed`, async () => {
      const root = await rootWith(c.kind, c.fixture);
      const report = await migrateAll(root, { skipInvalid: true });
      const file = report.files[0]!;
      expect(report.ok).toBe(true);
      expect(file).toMatchObject({ status: 'migrated', messages: c.valid.length });
      expect(file.skipped.map((s) => s.index)).toEqual([...new Set(c.problems.map(([i]) => i))]);
      for (const s of file.skipped) expect(s.reason).toMatch(/must|missing|nested/);
      expect(report.totals.entriesSkipped).toBe(file.skipped.length);

      const runtime = await createSessionRuntime({ root, readOnly: true });
      const history = await runtime.getHistory(file.sessionId!);
      const expected = await expectedMessages(root, file.file, c.valid);
      expect(
        history.map((m) => [
          m.role,
          m.content,
          m.timestamp,
          (m.metadata?.migratedFrom as { index: number }).index,
        ]),
      ).toEqual(expected.map((e) => [e.role, e.content, e.timestamp, e.index]));
      await runtime.close();
    });
  }

  it('reasons name what is wrong, without dumping the junk', async () => {
    const root = await rootWith('pm', 'pm-deeply-nested.json');
    const [file] = (await migrateAll(root)).files;
    expect(file!.problems.map((p) => `${p.field} ${p.reason}`)).toEqual([
      'entries[1].content must be a string or a list of content blocks like { "type": "text", ' +
        '"text": "..." }, got a list of 1',
      'entries[2] (extra fields) is nested more than 48 levels deep',
      'entries[3] must be an object, got a list of 1',
    ]);
  });
});

it('an entry with several bad fields gives one problem per field and one skipped line', async () => {
  const root = await tempRoot('dagent-corrupt-');
  await placeLegacy(root, 'pm', {
    json: {
      entries: [
        { role: 'x', content: 1, timestamp: 'no' },
        { role: 'user', content: 'fine', timestamp: '2024-01-01T00:00:00Z' },
      ],
    },
  });
  const strict = (await migrateAll(root, { dryRun: true })).files[0]!;
  expect(strict.problems.map((p) => [p.index, p.field])).toEqual([
    [0, 'entries[0].role'],
    [0, 'entries[0].content'],
    [0, 'entries[0].timestamp'],
  ]);
  expect(strict.reason).toMatch(/^1 of 2 entries are invalid/);
  const lenient = (await migrateAll(root, { skipInvalid: true })).files[0]!;
  expect(lenient.skipped).toEqual([
    {
      index: 0,
      field: 'entries[0].role, entries[0].content, entries[0].timestamp',
      reason:
        'entries[0].role must be "user" or "assistant", got "x"; entries[0].content must be a ' +
        'string or a list of content blocks like { "type": "text", "text": "..." }, got 1; ' +
        'entries[0].timestamp must be an ISO-8601 string or epoch milliseconds (2000 to 2100), got ' +
        '"no"',
    },
  ]);
  expect(lenient.messages).toBe(1);
});

describe('huge files', () => {
  it('are refused over maxFileBytes with a clear message; nothing written', async () => {
    const root = await tempRoot('dagent-huge-');
    const entry = { role: 'user', content: 'x'.repeat(10_000), timestamp: '2024-05-02T09:15:00Z' };
    const rel = legacyPath('pm');
    await placeLegacy(root, 'pm', { json: { entries: [] } });
    // Generated here rather than committed: 3 MB of entries.
    await writeFile(
      path.join(root, rel),
      JSON.stringify({ entries: Array.from({ length: 300 }, () => entry) }),
    );
    const before = await snapshotDir(root);
    const report = await migrateAll(root, { maxFileBytes: 1024 * 1024 });
    expect(report.files[0]).toMatchObject({ status: 'invalid', messages: 0 });
    expect(report.files[0]!.reason).toMatch(
      /chat\.json is 2\.9 MiB, over the 1\.0 MiB limit of a legacy file/,
    );
    expect(await snapshotDir(root)).toEqual(before);
  });

  it('the default limit is 256 MiB', async () => {
    const { DEFAULT_MAX_FILE_BYTES } = await import('../../src/migration/legacy-file.js');
    expect(DEFAULT_MAX_FILE_BYTES).toBe(256 * 1024 * 1024);
  });
});
