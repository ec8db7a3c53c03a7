/**
 * The session ledger: what messages and iterations record, how newer facts supersede older ones,
 * when a problem is settled (and when it is not), the user's words, reading schema-1 checkpoints.
 */
import { describe, expect, it } from 'vitest';
import {
  emptyLedger,
  ledgerProblems,
  recordIteration,
  recordMessages,
  upgradeCheckpoint,
} from '../../src/compaction/ledger/index.js';
import type { SessionLedger } from '../../src/core/ledger-types.js';
import type { Checkpoint } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';
import { call, result, say, toMessages, use } from './ledger-helpers.js';

const EMPTY = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };

describe('recordMessages: names', () => {
  it('lists names most mentioned first, and of those mentioned as often the most recently mentioned first', () => {
    const messages = toMessages(
      ['parseConfig', 'loadBooks', 'loadBooks', 'parseConfig', 'render_page'].map((name) =>
        say('assistant', `Now ${name} is next.`),
      ),
    );
    const names = (ledger: SessionLedger) => (ledger.names ?? []).map((n) => [n.name, n.mentions]);
    const expected = [
      ['parseConfig', 2],
      ['loadBooks', 2],
      ['render_page', 1],
    ];
    expect(names(recordMessages(null, messages))).toEqual(expected);
    // The same from a ledger recorded in two steps (a compaction's ledger, then the next one's).
    expect(names(recordMessages(recordMessages(null, messages.slice(0, 3)), messages.slice(3)))).toEqual(
      expected,
    );
  });
});

describe('recordMessages: files', () => {
  it('keeps the most telling last action per path, newest first, with the seq of the action', () => {
    const ledger = recordMessages(
      null,
      toMessages([
        ...call('a', 'Read', { file_path: 'src/a.ts' }, 'export {}'),
        ...call(
          'b',
          'Edit',
          { file_path: 'src/a.ts', old_string: 'x', new_string: 'y' },
          'The file has been updated.',
        ),
        ...call('c', 'Read', { file_path: 'src/a.ts' }, 'export {}'),
        ...call(
          'd',
          'Write',
          { file_path: 'src/new.ts', content: 'x' },
          'File created successfully at: src/new.ts',
        ),
        ...call('e', 'Edit', { file_path: 'src/new.ts', old_string: 'x', new_string: 'z' }, 'updated'),
        ...call('f', 'Write', { file_path: 'src/a.ts', content: 'all new' }, 'ok'),
        ...call('g', 'delete_file', { target_file: 'src/old.ts' }, 'deleted'),
      ]),
    );
    expect(ledger.files.map((f) => [f.path, f.action, f.seq, f.firstSeq])).toEqual([
      ['src/old.ts', 'deleted', 13, 13],
      ['src/a.ts', 'edited', 11, 1],
      ['src/new.ts', 'created', 9, 7],
    ]);
  });

  it(
    'does not record an edit that failed or was rejected; ' +
      'the failure is an open problem until the same file is written',
    () => {
      const messages = toMessages([
        say('assistant', 'Update(src/cli.py)', {}),
        ...call('a', 'Update', { call: 'Update(src/cli.py)' }, '  ⎿  User rejected update to src/cli.py'),
      ]);
      const ledger = recordMessages(null, messages);
      expect(ledger.files).toEqual([]);
      expect(ledger.problems.map((p) => p.key)).toEqual(['write:src/cli.py']);
      const later = recordMessages(
        ledger,
        toMessages(
          call('b', 'Write', { call: 'Write(file_path: src/cli.py)' }, '  ⎿  Wrote 3 lines to src/cli.py'),
          10,
        ),
      );
      expect(later.problems).toEqual([]);
      expect(later.files.map((f) => [f.path, f.action])).toEqual([['src/cli.py', 'created']]);
    },
  );
});

describe('recordMessages: commands and problems', () => {
  const failingTests = call(
    't1',
    'Bash',
    { command: 'cd /repo && npm test' },
    'FAIL x\n2 failed, 11 passed',
    true,
  );

  it('keeps the last run of each distinct command, set-up prefixes removed, with its exit code and counts', () => {
    const ledger = recordMessages(
      null,
      toMessages([
        ...failingTests,
        ...call('t2', 'Bash', { command: 'npm test' }, 'Exit code 0\nTests  13 passed'),
        ...call(
          't3',
          'shell',
          { command: ['bash', '-lc', 'npm run lint'] },
          '{"output":"boom\\n","metadata":{"exit_code":2}}',
        ),
      ]),
    );
    expect(ledger.commands).toMatchObject([
      { command: 'npm run lint', status: 'failed', exitCode: 2, runs: 1, error: 'boom' },
      { command: 'npm test', status: 'ok', exitCode: 0, passed: 13, runs: 2 },
    ]);
  });

  it(
    'keeps a failure open until the same command passes: ' +
      'a later success of an unrelated command settles nothing',
    () => {
      const messages = toMessages([
        ...failingTests,
        ...call('t2', 'Bash', { command: 'npm run lint' }, '31 tests passed. All checks passed!'),
        say('assistant', 'All tests pass now.'),
      ]);
      const ledger = recordMessages(null, messages);
      expect(ledger.problems).toMatchObject([
        { key: 'npm test', text: '`npm test` failed (2 failed, 11 passed): FAIL x', since: 1, count: 1 },
      ]);
      const fixed = recordMessages(
        ledger,
        toMessages(call('t3', 'Bash', { command: 'npm test' }, 'Tests  13 passed'), 10),
      );
      expect(fixed.problems).toEqual([]);
    },
  );

  it('settles the failures of narrower runs when the whole suite of the same runner passes, not the reverse', () => {
    const narrow = toMessages([
      ...call('a', 'Bash', { command: 'pytest specs/cli_spec.py -x' }, '1 failed, 3 passed', true),
      ...call('b', 'Bash', { command: 'pytest specs/other_spec.py' }, '5 passed'),
    ]);
    const ledger = recordMessages(null, narrow);
    expect(ledger.problems.map((p) => p.key)).toEqual(['pytest specs/cli_spec.py -x']);
    const full = recordMessages(
      ledger,
      toMessages(call('c', 'Bash', { command: 'pytest --tb=short' }, '40 passed'), 10),
    );
    expect(full.problems).toEqual([]);
    const broadFailure = recordMessages(
      null,
      toMessages([
        ...call('a', 'Bash', { command: 'pytest' }, '1 failed', true),
        ...call('b', 'Bash', { command: 'pytest specs/cli_spec.py' }, '3 passed'),
      ]),
    );
    expect(broadFailure.problems.map((p) => p.key)).toEqual(['pytest']);
  });

  it('lets the user settle a problem by naming it, or all of them; other words settle nothing', () => {
    const base = recordMessages(
      null,
      toMessages([
        ...call('a', 'Bash', { command: 'npm run lint' }, 'error: 3 problems', true),
        ...call('b', 'Bash', { command: 'npm test' }, '1 failed', true),
        say('user', 'Great, thanks for the update.'),
      ]),
    );
    expect(base.problems.map((p) => p.key)).toEqual(['npm test', 'npm run lint']);
    const one = recordMessages(
      base,
      toMessages([say('user', 'The npm run lint warnings are a known issue, ignore them.')], 10),
    );
    expect(one.problems.map((p) => p.key)).toEqual(['npm test']);
    const all = recordMessages(base, toMessages([say('user', 'Ignore the failing tests for now.')], 10));
    expect(all.problems).toEqual([]);
  });

  it('records what the user says blocks the work as a problem, and that it no longer does', () => {
    const blocked = recordMessages(
      null,
      toMessages([say('user', 'We are blocked on the API key from ops.')]),
    );
    expect(blocked.problems).toMatchObject([
      { key: 'user:0', text: 'user: We are blocked on the API key from ops.' },
    ]);
    const free = recordMessages(blocked, toMessages([say('user', 'The key arrived, we are unblocked.')], 1));
    expect(free.problems).toEqual([]);
  });

  it('counts an unknown tool as a tool call with its outcome, and a call without a result as not settled', () => {
    const ledger = recordMessages(
      null,
      toMessages([
        ...call('w', 'WebFetch', { url: 'https://example.com', prompt: 'status' }, 'Error: quota exceeded'),
        say('assistant', [use('x', 'Bash', { command: 'make deploy' })]),
      ]),
    );
    expect(ledger.commands).toMatchObject([
      { command: 'make deploy', kind: 'command', status: 'unknown' },
      { command: 'WebFetch https://example.com', kind: 'tool', status: 'failed' },
    ]);
    expect(ledger.problems.map((p) => p.key)).toEqual(['WebFetch https://example.com']);
  });
});

describe("recordMessages: the user's words and the status", () => {
  it(
    "keeps the user's requests verbatim, newest first; a repeated one moves up; " +
      'echo, slash commands and harness text are not words',
    () => {
      const ledger = recordMessages(
        null,
        toMessages([
          say('user', 'Add a --json flag to the list command.'),
          say('user', 'Please push \n  ⎿ API Error: 529 {"type":"error"}'),
          say('user', '/model opus'),
          say('user', '<command-name>/clear</command-name>'),
          say('user', 'Add a --json flag to the list command.'),
          say('user', 'No, the flag should be --format json instead.'),
          say('user', [result('r1', 'tool output is not the user')]),
        ]),
      );
      expect(ledger.requests.map((r) => [r.text, r.correction])).toEqual([
        ['No, the flag should be --format json instead.', true],
        ['Add a --json flag to the list command.', false],
        ['Please push', false],
      ]);
    },
  );

  it('a repeat moves up past earlier ledgers too, case and spacing aside, and removes every copy', () => {
    // A ledger edited by hand (or written by an older version) may hold the same request twice.
    const base = {
      ...emptyLedger(),
      throughSeq: 9,
      requests: [
        { text: 'Run the  TESTS', seq: 9, correction: false },
        { text: 'Fix the parser', seq: 5, correction: false },
        { text: 'run the tests', seq: 2, correction: false },
      ],
    };
    const ledger = recordMessages(
      base,
      toMessages(
        [say('user', 'Write the docs'), say('user', 'Run the\ntests'), say('user', 'write the DOCS')],
        10,
      ),
    );
    expect(ledger.requests.map((r) => [r.text, r.seq])).toEqual([
      ['write the DOCS', 12],
      ['Run the\ntests', 11],
      ['Fix the parser', 5],
    ]);
  });

  it('takes the status from the newest todo list: a newer list supersedes, whatever it says', () => {
    const todos = (id: string, statuses: string[]) =>
      call(
        id,
        'TodoWrite',
        { todos: statuses.map((status, i) => ({ content: `step ${i + 1}`, status })) },
        'Todos have been modified successfully',
      );
    const done = recordMessages(null, toMessages(todos('a', ['completed', 'completed'])));
    expect(done.status).toMatchObject({ text: 'todo list: 2 of 2 done', source: 'todos' });
    const reopened = recordMessages(
      done,
      toMessages(
        [say('user', 'It should be in review, not complete.'), ...todos('b', ['completed', 'in_progress'])],
        5,
      ),
    );
    expect(reopened.status?.text).toBe('todo list: 1 of 2 done; in progress: step 2');
    expect(reopened.requests[0]?.text).toBe('It should be in review, not complete.');
  });

  it('reads a console todo list from the checkboxes its result prints', () => {
    const ledger = recordMessages(
      null,
      toMessages(
        call('a', 'Update_Todos', { call: 'Update Todos' }, '  ⎿  ☒ Read the spec\n     ☐ Write the parser'),
      ),
    );
    expect(ledger.status?.text).toBe('todo list: 1 of 2 done');
  });
});

describe('recordMessages: supersession without decay', () => {
  it('keeps every fact recorded in many batches (nothing is dropped for its age) and records each message once', () => {
    let ledger = emptyLedger();
    for (let batch = 0; batch < 20; batch++) {
      const messages = toMessages(
        call(
          `e${batch}`,
          'Edit',
          { file_path: `src/f${batch}.ts`, old_string: 'a', new_string: 'b' },
          'updated',
        ),
        batch * 2,
      );
      ledger = recordMessages(ledger, messages);
      // Recording the same messages again changes nothing.
      expect(recordMessages(ledger, messages)).toEqual(ledger);
    }
    expect(ledger.files.map((f) => f.path)).toEqual(
      Array.from({ length: 20 }, (_, i) => `src/f${19 - i}.ts`),
    );
    expect(ledger.throughSeq).toBe(39);
  });
});

describe('recordIteration', () => {
  it('records files, commands, checks and why the iteration stopped; a failed check stays open until it passes', () => {
    const first = recordIteration(null, {
      iteration: 1,
      files: [{ path: 'src/parser.ts', action: 'edited' }],
      commands: [
        { command: 'cd app && npm test', exitCode: 1, failed: 2, passed: 40, error: 'AssertionError: x' },
      ],
      checks: [
        { checkId: 'tests', passed: false, error: '2 failed' },
        { checkId: 'lint', passed: true },
      ],
      stopReason: 'checks failed',
    });
    expect(first.iterations).toBe(1);
    expect(first.files).toMatchObject([{ path: 'src/parser.ts', action: 'edited', iteration: 1 }]);
    expect(first.commands).toMatchObject([
      { command: 'npm test', status: 'failed', exitCode: 1, iteration: 1 },
    ]);
    expect(first.problems.map((p) => p.key).sort()).toEqual(['check:tests', 'npm test']);
    expect(first.status).toMatchObject({
      text: 'iteration 1: checks failed (checks: 1 of 2 passed)',
      iteration: 1,
    });
    const second = recordIteration(first, {
      iteration: 2,
      commands: [{ command: 'npm test', exitCode: 0, passed: 42 }],
      checks: [{ checkId: 'tests', passed: true }],
      stopReason: 'checks passed',
    });
    expect(second.problems).toEqual([]);
    expect(second.status?.text).toBe('iteration 2: checks passed (checks: 1 of 1 passed)');
    expect(second.iterations).toBe(2);
  });
});

describe('upgradeCheckpoint (schema 1 to 2)', () => {
  it("moves the old summary's facts to the ledger and keeps everything else where it was", () => {
    const v1 = {
      version: 3,
      createdAt: 'a',
      updatedAt: 'b',
      summary: {
        completed: ['edited `src/a.ts`'],
        inProgress: ['the parser'],
        pending: ['User asked: Add a --json flag', 'write docs'],
        decisions: ['User: Never commit to main', 'use SQLite'],
        blockers: ['`npm test` failed: 2 failed', 'the API key is missing'],
      },
      compactionInfo: { archivedThroughSeq: 41 },
      tokens: 10,
    } as unknown as Checkpoint;
    const v2 = upgradeCheckpoint(v1);
    expect(v2.schemaVersion).toBe(2);
    expect(v2.summary).toEqual({
      completed: ['edited `src/a.ts`'],
      inProgress: ['the parser'],
      pending: ['write docs'],
      decisions: ['use SQLite'],
      blockers: ['the API key is missing'],
    });
    expect(v2.ledger?.problems).toMatchObject([
      { key: 'npm test', text: '`npm test` failed: 2 failed', since: 41 },
    ]);
    expect(v2.ledger?.requests.map((r) => r.text)).toEqual(['Never commit to main', 'Add a --json flag']);
    expect(v2.ledger?.throughSeq).toBe(41);
    expect(upgradeCheckpoint(v2)).toBe(v2);
    expect(v1.summary.blockers).toHaveLength(2); // the argument is not changed
  });
});

describe('ledgerProblems', () => {
  it('accepts what the ledger functions make, and names what is wrong with anything else', () => {
    const ledger = recordIteration(
      recordMessages(
        null,
        toMessages([say('user', 'Fix it.'), ...call('a', 'Bash', { command: 'make' }, 'error', true)]),
      ),
      { iteration: 1, stopReason: 'checks failed' },
    );
    expect(ledgerProblems(ledger)).toEqual([]);
    expect(ledgerProblems(emptyLedger())).toEqual([]);
    expect(ledgerProblems({ ...ledger, names: undefined })).toEqual([]); // names came later in schema 2
    expect(ledgerProblems('ledger')).toEqual([
      'ledger must be an object { files, commands, problems, requests, names, status, throughSeq, iterations }',
    ]);
    expect(
      ledgerProblems({
        ...ledger,
        files: [{ path: 'a', action: 'touched', seq: 1, firstSeq: 1 }],
        commands: 'make',
        problems: [{ key: 'make', text: 'x', since: 0, seq: 0, count: 0 }],
        requests: [{ text: 'Fix it.', seq: 0 }],
        status: { text: 'done' },
        throughSeq: -2,
      }),
    ).toEqual([
      'ledger.files must be a list of { path, action (read, created, edited, deleted), seq, firstSeq }',
      'ledger.commands must be a list of { command, kind, runs >= 1, seq, status (ok, failed, unknown) }',
      'ledger.problems must be a list of { key, text, since, seq, count >= 1 }',
      'ledger.requests must be a list of { text, seq, correction }',
      'ledger.status must be null or { text, seq, source (iteration, todos, activity) }',
      'ledger.throughSeq must be an integer >= -1',
    ]);
  });
});

describe('the ledger in a request', () => {
  it(
    'renders compactly: status, requests, problems, ' +
      'files by action, commands with their outcome, names used twice',
    () => {
      const ledger = recordMessages(
        null,
        toMessages([
          say('user', 'Fix `quote_field` in src/csv.ts please.'),
          ...call(
            'a',
            'Edit',
            { file_path: 'src/csv.ts', old_string: 'quote_field', new_string: 'quote_field2' },
            'ok',
          ),
          ...call(
            'b',
            'Bash',
            { command: 'npm test' },
            'Exit code 1\n1 failed, 3 passed\nAssertionError: quotes',
            true,
          ),
        ]),
      );
      expect(renderCheckpoint(EMPTY, undefined, ledger)).toBe(
        [
          '## Checkpoint',
          '',
          '### User requests and corrections (newest first, verbatim)',
          '- Fix `quote_field` in src/csv.ts please.',
          '',
          '### Open problems',
          '- `npm test` failed (exit 1, 1 failed, 3 passed): AssertionError: quotes',
          '',
          '### Files (newest first)',
          '- edited: src/csv.ts',
          '',
          '### Commands (last run, newest first)',
          '- `npm test` → failed (exit 1, 1 failed, 3 passed): AssertionError: quotes',
          '',
          '### Names in use (most used first)',
          'quote_field',
        ].join('\n'),
      );
    },
  );
});
