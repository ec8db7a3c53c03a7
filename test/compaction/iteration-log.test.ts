/**
 * The ledger's iteration log: one line per task-loop iteration, from the facts its messages showed
 * (recorded before) and those its loop gives, checked by ledgerProblems, rendered in requests.
 */
import { describe, expect, it } from 'vitest';
import {
  applyCheckpointChanges,
  emptyLedger,
  ledgerProblems,
  recordIteration,
  recordMessages,
} from '../../src/compaction/ledger/index.js';
import type { Message } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';

const EMPTY = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };

let seq = 0;
function message(
  role: Message['role'],
  content: Message['content'],
  metadata?: Message['metadata'],
): Message {
  return {
    id: `m${seq}`,
    seq: seq++,
    role,
    content,
    timestamp: 't',
    tokens: 1,
    ...(metadata ? { metadata } : {}),
  };
}
const run = (id: string, command: string, output: string, isError = false): Message[] => [
  message('assistant', [{ type: 'tool_use', id, name: 'Bash', input: { command } }]),
  message('user', [{ type: 'tool_result', tool_use_id: id, content: output, is_error: isError }]),
];

describe('the iteration log', () => {
  it('says per iteration why it stopped, its checks, the files it changed and the commands it ran', () => {
    seq = 0;
    let ledger = recordMessages(null, [
      message('user', 'Iteration 1: continue from the checkpoint.', { harness: true }),
      message('assistant', [
        { type: 'tool_use', id: 'e1', name: 'Write', input: { file_path: 'src/a.ts', content: 'x' } },
      ]),
      message('user', [
        { type: 'tool_result', tool_use_id: 'e1', content: 'File created successfully at: src/a.ts' },
      ]),
      ...run('r1', 'npm test', 'Exit code 1\n1 failed, 3 passed', true),
    ]);
    expect(ledger.requests).toEqual([]); // the harness's prompt is not the user's words
    ledger = recordIteration(ledger, {
      iteration: 1,
      commands: [{ command: 'npm run lint', exitCode: 0 }],
      checks: [
        { checkId: 'tests', passed: false, error: '1 failed' },
        { checkId: 'lint', passed: true },
      ],
      stopReason: 'checks failed',
    });
    ledger = recordMessages(ledger, [
      message('assistant', [{ type: 'tool_use', id: 'e2', name: 'Edit', input: { file_path: 'src/b.ts' } }]),
      message('user', [
        { type: 'tool_result', tool_use_id: 'e2', content: 'The file src/b.ts has been updated.' },
      ]),
      ...run('r2', 'npm test', '4 passed'),
    ]);
    ledger = recordIteration(ledger, {
      iteration: 2,
      files: [{ path: 'docs/a.md', action: 'edited' }],
      checks: [
        { checkId: 'tests', passed: true },
        { checkId: 'lint', passed: true },
      ],
      stopReason: 'every check passes',
    });
    expect(ledger.iterationLog?.map((i) => `${i.iteration}: ${i.text}`)).toEqual([
      '2: every check passes · passes again: tests (failed in iteration 1) · passed: lint · edited ' +
        'src/b.ts, docs/a.md · ran `npm test` → ok (4 passed)',
      '1: checks failed · failed: tests (1 failed) · passed: lint · created src/a.ts · ran `npm test` ' +
        '→ failed (exit 1, 1 failed, 3 passed): 1 failed, 3 passed; `npm run lint` → ok',
    ]);
    expect(ledger.problems).toEqual([]);
    expect(ledgerProblems(ledger)).toEqual([]);
    expect(renderCheckpoint(EMPTY, undefined, ledger)).toContain(
      '### Status\niteration 2: every check passes (checks: 2 of 2 passed)\n\n### Iterations (newest ' +
        'first)\n- 2: every check passes',
    );
  });

  it('is recorded with the archived messages in one change, internal messages left out', () => {
    seq = 100;
    const { ledger, summary } = applyCheckpointChanges(
      { summary: EMPTY, ledger: emptyLedger() },
      [
        ...run('r9', 'make', 'Exit code 2\nmake: *** [all] Error 2', true),
        message('user', 'INTERNAL: heartbeat', { internal: true }),
      ],
      [
        {
          iteration: {
            iteration: 4,
            checks: [{ checkId: 'build', passed: false }],
            stopReason: 'checks failed',
          },
        },
        { edit: { summary: { pending: ['fix the build'] } } },
      ],
    );
    expect(ledger.iterationLog).toMatchObject([
      {
        iteration: 4,
        text: 'checks failed · failed: build · ran `make` → failed (exit 2): make: [all] Error 2',
      },
    ]);
    expect(ledger.throughSeq).toBe(101); // the internal message was not read
    expect(summary.pending).toEqual(['fix the build']);
  });

  it('is checked field by field like the rest of the ledger', () => {
    expect(
      ledgerProblems({
        ...emptyLedger(),
        iterationLog: [{ iteration: -1, text: 'x', seq: 0 }],
        decisions: [{ key: 'review:a', kind: 'vote', subject: 'a' }],
      }),
    ).toEqual([
      'ledger.iterationLog must be a list of { iteration >= 0, text, seq }',
      'ledger.decisions must be a list of { key, kind (review, merge, decision), subject, outcome, ' +
        'text, reasons, count >= 1, seq }',
    ]);
  });
});
