import { describe, expect, it } from 'vitest';
import { classify, extractStatements, shortenStatement } from '../../src/compaction/extract-text.js';
import {
  describeCall,
  findPaths,
  normaliseCommand,
  outcomeOf,
  parseStringCall,
} from '../../src/compaction/extract-tools.js';
import { dropOrder } from '../../src/compaction/offline-budget.js';
import { itemsMatch } from '../../src/compaction/offline-merge.js';

describe('classify', () => {
  it.each([
    ['We decided to store sessions as JSON files.', 'decision'],
    ["Let's go with lowdb for persistence.", 'decision'],
    ['Now let me run the test suite again.', 'inProgress'],
    ["I'm working on the parser now.", 'inProgress'],
    ['Fixed the off-by-one error in the pager.', 'completed'],
    ['All tests pass now.', 'completed'],
    ['Added error handling to the loader.', 'completed'],
    ['✅ Lint is clean.', 'completed'],
    ['TODO: document the CLI flags.', 'pending'],
    ['We still need to update the changelog.', 'pending'],
    ['The remaining work is the export command.', 'pending'],
    ['The build is blocked by a missing API key.', 'blocker'],
    ['I cannot reproduce the crash locally.', 'blocker'],
    ['The migration fails with a constraint violation.', 'blocker'],
    ['The test fails as expected.', null],
    ['This is a nice library.', null],
    ['Should we refactor the store?', null],
    ["The bug isn't fixed yet.", 'pending'],
  ])('%j is %s', (sentence, kind) => {
    expect(classify(sentence)).toBe(kind);
  });
});

describe('extractStatements', () => {
  it('joins hard-wrapped console lines and files list items under their heading', () => {
    const text = [
      'Summary of the session. I implemented the pager and the',
      '  export command today.',
      '',
      'Next Steps:',
      '1. Write the migration guide',
      '2. Release 0.2',
      '',
      '```',
      'TODO: this is code, not a statement',
      '```',
    ].join('\n');
    expect(extractStatements(text, 'assistant', 10)).toEqual([
      { kind: 'completed', text: 'I implemented the pager and the export command today.' },
      { kind: 'pending', text: 'Write the migration guide' },
      { kind: 'pending', text: 'Release 0.2' },
    ]);
  });

  it('reads user requests and rules, and todo checklists', () => {
    expect(extractStatements('Please add a dark mode. Never commit to main. Thanks', 'user', 3)).toEqual([
      { kind: 'pending', text: 'User asked: Please add a dark mode.' },
      { kind: 'decision', text: 'User: Never commit to main.' },
    ]);
    expect(
      extractStatements(
        '  ⎿  ☒ Parse config\n     ☐ Validate config\n\nUpdated the list of tasks.',
        'checklist',
        10,
      ),
    ).toEqual([
      { kind: 'completed', text: 'Parse config', strong: true },
      { kind: 'pending', text: 'Validate config' },
    ]);
  });
});

describe('shortenStatement', () => {
  it('keeps statements short, on one line, cut at a sentence or a word', () => {
    expect(shortenStatement('  **Done:**  the   thing\n works: ')).toBe('Done: the thing works');
    const long = `${'word '.repeat(30)}ends here. ${'more '.repeat(40)}`;
    expect(shortenStatement(long)).toBe(`${'word '.repeat(30)}ends here.`);
    const noSentence = 'x'.repeat(150) + ' ' + 'y'.repeat(150);
    const short = shortenStatement(noSentence);
    expect(short.length).toBeLessThanOrEqual(200);
    expect(short.endsWith('…')).toBe(true);
    expect(shortenStatement('🎉'.repeat(150)).length).toBeLessThanOrEqual(200);
  });
});

describe('tool calls', () => {
  it('reads commands, files and todos from tool_use inputs', () => {
    expect(describeCall('Bash', { command: 'cd /repo && npm  test' })).toMatchObject({
      kind: 'command',
      label: 'npm test',
    });
    expect(describeCall('Edit', { file_path: 'src/a.ts', old_string: '', new_string: '' })).toMatchObject({
      kind: 'edit',
      paths: ['src/a.ts'],
    });
    expect(describeCall('str_replace_editor', { command: 'create', path: 'b.py' })).toMatchObject({
      kind: 'write',
      paths: ['b.py'],
    });
    expect(describeCall('TodoWrite', { todos: [{ content: 'x', status: 'pending' }] }).todos).toEqual([
      { content: 'x', status: 'pending' },
    ]);
  });

  it('parses the string form of console transcripts', () => {
    expect(parseStringCall('Bash', 'Bash(source venv/bin/activate && pytest specs/)…').call).toMatchObject({
      kind: 'command',
      label: 'pytest specs/',
    });
    expect(parseStringCall('Write', 'Write(file_path: conftest.py)…').call).toMatchObject({
      kind: 'write',
      paths: ['conftest.py'],
    });
    expect(parseStringCall('Shell', 'Shell pytest --spec').call).toMatchObject({
      kind: 'command',
      label: 'pytest --spec',
    });
    const swe = parseStringCall('python', 'Now run it.\n\n```\npython reproduce.py\n```');
    expect(swe).toEqual({
      call: expect.objectContaining({ kind: 'command', label: 'python reproduce.py' }),
      prose: 'Now run it.\n\n```\npython reproduce.py\n```',
    });
    expect(normaliseCommand('cd /a && source .venv/bin/activate && make   lint…')).toBe('make lint');
  });

  it('tells failed outputs from good ones and keeps the telling line', () => {
    expect(outcomeOf('Tests 13 passed', false, true)).toEqual({ ok: true });
    expect(outcomeOf('ok', true, true)).toEqual({ ok: false, error: 'ok' });
    expect(
      outcomeOf('Traceback (most recent call last):\n  File "a.py"\nKeyError: \'x\'', false, true),
    ).toEqual({ ok: false, error: "KeyError: 'x'" });
    expect(outcomeOf('collected 3 items\n\n==== 1 failed, 2 passed ====', false, true)).toEqual({
      ok: false,
      error: '1 failed, 2 passed',
    });
    // File contents that mention errors are not failures of an edit.
    expect(outcomeOf('Updated README.md: "pytest: command not found" means...', false, false)).toEqual({
      ok: true,
    });
    expect(outcomeOf('  ⎿  Error: String to replace not found in file.', false, false)).toEqual({
      ok: false,
      error: 'Error: String to replace not found in file.',
    });
  });

  it('finds path-looking tokens', () => {
    expect(findPaths('see src/foo.ts, ./lib/bar.js and README.md (not e.g. or 3.14)')).toEqual([
      'src/foo.ts',
      './lib/bar.js',
      'README.md',
    ]);
  });
});

describe('matching and drop order', () => {
  it('matches items about the same command, file, or words', () => {
    expect(itemsMatch('make `npm test` pass', 'ran `npm test` (ok)')).toBe(true);
    expect(itemsMatch('Fix the parser in src/parser.ts', 'edited `src/parser.ts`')).toBe(true);
    expect(itemsMatch('Write the migration guide', 'Wrote the migration guide')).toBe(true);
    expect(itemsMatch('Write the migration guide', 'Release version 0.2')).toBe(false);
  });

  it('drops old completed, decisions and pending first, then the newest of those, then blockers, then work in progress', () => {
    const n = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    const order = dropOrder({
      completed: n('c', 7),
      decisions: n('d', 6),
      pending: n('p', 2),
      blockers: n('b', 2),
      inProgress: n('i', 2),
    }).map((x) => x.text);
    expect(order).toEqual([
      'c0',
      'c1',
      'd0',
      'c2',
      'c3',
      'c4',
      'c5',
      'c6',
      'd1',
      'd2',
      'd3',
      'd4',
      'd5',
      'p0',
      'p1',
      'b0',
      'b1',
      'i0',
      'i1',
    ]);
  });
});
