/**
 * The tool vocabularies, agent by agent: on real samples where there are some (Claude Code's
 * console and log, Gemini CLI, SWE-agent), on fixtures built from the documented formats of the
 * others (Cursor, Aider, Codex CLI, OpenHands, the Messages API; sources in
 * fixtures/vocabulary/README.md). Each records a session's messages into a ledger and checks
 * what every kind of call left: files and their action, commands and their outcome, problems.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recordMessages } from '../../src/compaction/ledger/index.js';
import { describeConsoleCall, describeToolUse } from '../../src/compaction/vocabulary/describe-call.js';
import { outcomeOf } from '../../src/compaction/vocabulary/outcome.js';
import { TOOL_TABLE } from '../../src/compaction/vocabulary/tool-table.js';
import type { MessageInput, SessionLedger } from '../../src/core/types.js';
import { readTranscriptFile } from '../../src/integration/transcript-file.js';
import { parseTranscript } from '../../src/integration/transcript.js';
import { toMessages } from './ledger-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(ROOT, '../shared/transcripts');

function fixture(name: string): SessionLedger {
  const { messages } = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/vocabulary', name), 'utf8')) as {
    messages: MessageInput[];
  };
  return recordMessages(null, toMessages(messages));
}
const files = (ledger: SessionLedger) => ledger.files.map((f) => [f.path, f.action]);
const command = (ledger: SessionLedger, text: string) => ledger.commands.find((c) => c.command === text);

describe('the tool table', () => {
  it('covers every agent whose logs users import, and each row says what its tool does', () => {
    const agents = new Set(TOOL_TABLE.map((entry) => entry.agent));
    expect([...agents].sort()).toEqual([
      'aider',
      'claude-code',
      'codex-cli',
      'cursor',
      'gemini-cli',
      'messages-api',
      'openhands',
      'swe-agent',
    ]);
    for (const entry of TOOL_TABLE) {
      expect(entry.names.length, entry.agent).toBeGreaterThan(0);
      if (entry.action === 'command' && entry.agent !== 'aider' && entry.agent !== 'swe-agent')
        expect(entry.command, `${entry.names[0]}: where is the command?`).toBeDefined();
    }
  });

  it('counts a tool it does not know as a call with its outcome', () => {
    expect(describeToolUse('mcp__linear__create_issue', { title: 'Flaky test' })).toMatchObject({
      action: 'other',
      label: 'mcp__linear__create_issue Flaky test',
    });
  });
});

describe('agents without a sample here (fixtures from their documented formats)', () => {
  it(
    'Cursor: run_terminal_cmd is a command, edit_file and search_replace edit their target_file, ' +
      "delete_file deletes; an exported edit_file's file is the one named just before",
    () => {
      const ledger = fixture('cursor.json');
      expect(files(ledger)).toEqual([
        ['src/utils/email.ts', 'edited'],
        ['src/legacy/validate.js', 'deleted'],
        ['src/LoginForm.tsx', 'edited'],
      ]);
      // The tool call and the exported `Run command:` are the same command: the second run passes.
      expect(command(ledger, 'npm test -- --watchAll=false')).toMatchObject({
        runs: 2,
        status: 'ok',
        passed: 8,
      });
      expect(ledger.problems).toEqual([]);
      expect(ledger.status?.text).toBe('todo list: 1 of 2 done; in progress: Make the test suite pass');
    },
  );

  it('Aider: edits are its "Applied edit to" lines, runs are the output message it adds after /run', () => {
    const ledger = fixture('aider.json');
    expect(files(ledger)).toEqual([['cli.py', 'edited']]);
    expect(command(ledger, 'pytest -q')).toMatchObject({ status: 'failed', failed: 1, passed: 4 });
    expect(ledger.problems.map((p) => p.key)).toEqual(['write:tests/test_cli.py', 'pytest -q']);
    expect(ledger.requests.map((r) => r.text)).toEqual(['Add a --verbose flag to cli.py']); // /run is not a request
  });

  it(
    'Codex CLI: shell argv and exec_command are commands with ' +
      'the exit code of their envelope; apply_patch names its files',
    () => {
      const ledger = fixture('codex-cli.json');
      expect(files(ledger)).toEqual([
        ['README.md', 'edited'],
        ['src/old-parse.ts', 'deleted'],
        ['src/strict.ts', 'created'],
        ['src/parse.ts', 'edited'],
      ]);
      expect(command(ledger, 'npm test')).toMatchObject({ runs: 2, status: 'ok', exitCode: 0, passed: 10 });
      expect(ledger.problems).toEqual([]);
      expect(ledger.status?.text).toBe('todo list: 1 of 2 done; in progress: Make parse strict');
    },
  );

  it(
    'OpenHands: execute_bash with its exit-code trailer; ' +
      'str_replace_editor views, edits and creates by its command',
    () => {
      const ledger = fixture('openhands.json');
      expect(files(ledger)).toEqual([
        ['/workspace/repo/CHANGES.md', 'edited'],
        ['/workspace/repo/tests/test_empty.py', 'created'],
        ['/workspace/repo/parser.py', 'edited'],
      ]);
      expect(command(ledger, 'python -m pytest tests -x -q')).toMatchObject({
        runs: 2,
        status: 'ok',
        exitCode: 0,
      });
      expect(ledger.problems).toEqual([]);
    },
  );

  it(
    "the Messages API's own tools: bash, the text editor's " +
      "create and view; an unknown tool's failure is a problem",
    () => {
      const ledger = fixture('messages-api.json');
      expect(files(ledger)).toEqual([
        ['/repo/README.md', 'read'],
        ['/repo/hello.py', 'created'],
      ]);
      expect(ledger.problems.map((p) => p.text)).toEqual([
        'mcp__github__create_issue Document --name failed: Error: 401 Bad credentials',
        '`python3 /repo/hello.py --name` failed: error: unrecognized arguments: --name',
      ]);
    },
  );
});

describe('outcomes as each harness reports them', () => {
  it.each([
    [
      'Claude Code console',
      '  ⎿  Waiting…\n\n  ⎿  Error: (eval):1: command not found: pytest',
      false,
      'failed',
      undefined,
    ],
    ['Claude Code log', 'Exit code 1\nFAIL x', true, 'failed', 1],
    [
      'Codex envelope',
      '{"output":"ok\\n","metadata":{"exit_code":0,"duration_seconds":0.1}}',
      false,
      'ok',
      0,
    ],
    ['Codex text', 'Exit code: 2\nWall time: 0.1 seconds\nOutput:\nerror', false, 'failed', 2],
    ['OpenHands', 'done\n[The command completed with exit code 0.]', false, 'ok', 0],
    ['OpenHands still running', '[The command completed with exit code -1.]', false, 'unknown', -1],
    ['pytest', '== 3 failed, 40 passed in 1.2s ==', false, 'failed', undefined],
    ['exit 0 wins over words', 'Exit code: 0\n0 errors, warnings about failure handling', false, 'ok', 0],
  ] as const)('%s', (_, text, isError, status, exitCode) => {
    const outcome = outcomeOf(text, isError, true);
    expect(outcome.status).toBe(status);
    expect(outcome.exitCode).toBe(exitCode);
  });
});

const present = existsSync(SHARED);
describe.skipIf(!present)(
  `agents with real samples${present ? '' : ' (skipped: ../shared/transcripts is absent beside this checkout)'}`,
  () => {
    const load = (name: string) =>
      recordMessages(
        null,
        toMessages(parseTranscript(JSON.parse(readFileSync(path.join(SHARED, name), 'utf8'))).messages),
      );

    it('Claude Code console: Bash, Write (file_path:), Update, Read, Search, Update Todos', () => {
      expect(
        describeConsoleCall('Bash', 'Bash(cd /Users/p/BookMinder && pytest specs/ --spec)…'),
      ).toMatchObject({
        action: 'command',
        command: 'pytest specs/ --spec',
      });
      expect(describeConsoleCall('Write', 'Write(file_path: conftest.py)…').files).toEqual([
        { path: 'conftest.py', action: 'write' },
      ]);
      expect(describeConsoleCall('Search', 'Search(pattern: "conftest", path: "day-002.md")…').action).toBe(
        'search',
      );
      const ledger = load('cc-console-bookminder-day-003.json');
      expect(files(ledger)).toEqual(
        expect.arrayContaining([
          ['conftest.py', 'created'],
          ['pytest.ini', 'created'],
          ['README.md', 'edited'],
          ['setup.py', 'read'],
        ]),
      );
      expect(command(ledger, 'git status')?.runs).toBeGreaterThan(1);
      expect(ledger.status?.text).toBe('todo list: 5 of 5 done');
      expect(ledger.names.map((n) => n.name)).not.toContain('file_path');
    });

    it('Claude Code log (.jsonl): structured Read, Edit and Bash, results paired by id, a rejected call', async () => {
      const { transcript } = await readTranscriptFile(path.join(ROOT, 'fixtures/claude-code/session.jsonl'), {
        skipInvalid: true,
      });
      const ledger = recordMessages(null, toMessages(transcript.messages));
      expect(files(ledger)).toEqual([
        ['/home/dev/csv-kit/src/export/csv.ts', 'edited'],
        ['/home/dev/csv-kit/test/csv.test.ts', 'read'],
      ]);
      expect(command(ledger, 'npm test -- csv')).toMatchObject({ status: 'failed', failed: 1, passed: 1 });
      expect(command(ledger, 'npx tsc --noEmit')?.status).toBe('ok');
      expect(ledger.problems.map((p) => p.key)).toEqual([
        "git commit -am 'Double embedded quotes in CSV fields'",
      ]);
    });

    it(
      'Gemini CLI console: Shell without its description, ' +
        'Edit path: old => new, WriteFile Writing to, ReadFile',
      () => {
        expect(
          describeConsoleCall(
            'Shell',
            'Shell git add pyproject.toml (Stage the modified pyproject.toml file.)',
          ),
        ).toMatchObject({ action: 'command', command: 'git add pyproject.toml' });
        expect(
          describeConsoleCall('Edit', 'Edit specs/cli_spec.py:     def it_shows... =>     def it_...').files,
        ).toEqual([{ path: 'specs/cli_spec.py', action: 'edit' }]);
        expect(describeConsoleCall('WriteFile', 'WriteFile Writing to bookminder/__init__.py').files).toEqual(
          [{ path: 'bookminder/__init__.py', action: 'write' }],
        );
        expect(
          describeConsoleCall('ReadManyFiles', 'ReadManyFiles Will attempt to read and concatenate files')
            .files,
        ).toEqual([]);
        const ledger = load('gemini-console-bookminder-day-011.json');
        expect(files(ledger)).toEqual(
          expect.arrayContaining([
            ['specs/cli_spec.py', 'edited'],
            ['bookminder/__init__.py', 'created'],
          ]),
        );
        expect(command(ledger, 'pytest --spec')).toMatchObject({ status: 'ok' });
        expect(ledger.problems.map((p) => p.key)).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^WebFetch /),
            'ReadFolder specs/Data/Documents/BKLibrary',
          ]),
        );
      },
    );

    it(
      "SWE-agent: the command in the reply's last fence; edit changes the " +
        'file opened last; a traceback fails, a later clean run settles it',
      () => {
        const ledger = load('sweagent-gpt4-pydicom-1458.json');
        expect(files(ledger)).toEqual(
          expect.arrayContaining([
            ['/pydicom__pydicom/pydicom/pixel_data_handlers/numpy_handler.py', 'edited'],
            ['reproduce_bug.py', 'created'],
          ]),
        );
        expect(command(ledger, 'python reproduce_bug.py')).toMatchObject({ runs: 2, status: 'ok' });
        expect(command(ledger, 'rm reproduce_bug.py')?.status).toBe('ok');
        expect(ledger.problems).toEqual([]);
      },
    );
  },
);
