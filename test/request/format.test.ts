import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckpointSummary, ContentBlock } from '../../src/core/types.js';
import {
  contentToText,
  renderAgentDescription,
  renderCheckpoint,
  renderContext,
} from '../../src/request/format.js';
import { oneLine } from '../../src/request/format-ledger.js';

const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };

describe('renderCheckpoint', () => {
  it('renders every non-empty section in order, then the checks', () => {
    const summary: CheckpointSummary = {
      goals: ['JSON output for the list command'],
      completed: ['ran `npm test` (ok)', 'edited `src/cli.ts`'],
      inProgress: ['Add the --json flag'],
      pending: ['Update the README'],
      decisions: ['Use commander'],
      blockers: ['`npm run lint` failed: 2 problems'],
    };
    expect(
      renderCheckpoint(summary, [
        { checkId: 'unit', passed: true },
        { checkId: 'lint', passed: false, error: '2 problems\nin src/cli.ts' },
        { checkId: 'e2e', passed: false },
      ]),
    ).toBe(
      [
        '## Checkpoint',
        '',
        '### Goals',
        '- JSON output for the list command',
        '',
        '### In progress',
        '- Add the --json flag',
        '',
        '### Next',
        '- Update the README',
        '',
        '### Decisions',
        '- Use commander',
        '',
        '### Completed',
        '- ran `npm test` (ok)',
        '- edited `src/cli.ts`',
        '',
        '### Blockers',
        '- `npm run lint` failed: 2 problems',
        '',
        '### Checks',
        '- [x] unit',
        '- [ ] lint: 2 problems in src/cli.ts',
        '- [ ] e2e',
      ].join('\n'),
    );
  });

  it('omits empty sections, and renders nothing at all for an empty summary without checks', () => {
    expect(renderCheckpoint(EMPTY)).toBe('');
    expect(renderCheckpoint(EMPTY, [])).toBe('');
    expect(renderCheckpoint({ ...EMPTY, blockers: ['stuck'] })).toBe(
      '## Checkpoint\n\n### Blockers\n- stuck',
    );
    expect(renderCheckpoint(EMPTY, [{ checkId: 'build', passed: true }])).toBe(
      '## Checkpoint\n\n### Checks\n- [x] build',
    );
  });

  it('keeps each item on one line and skips blank items', () => {
    expect(renderCheckpoint({ ...EMPTY, completed: ['two\nlines  here', '   ', ''] })).toBe(
      '## Checkpoint\n\n### Completed\n- two lines here',
    );
  });

  it('tolerates a summary with missing or malformed sections', () => {
    const odd = { completed: 'not a list', pending: [1, null, 'real item'] } as unknown as CheckpointSummary;
    expect(renderCheckpoint(odd)).toBe('## Checkpoint\n\n### Next\n- real item');
  });
});

describe('renderContext', () => {
  it('renders the known sections in their order, then extra keys', () => {
    const text = renderContext({
      extraNote: 'free text',
      attachments: ['design.pdf'],
      featureName: 'Export',
      featureGoal: 'Users can export their library',
      taskTitle: 'Add --json',
      taskState: 'in_dev',
      dagSummary: 'A -> B -> C',
      dependencies: ['parser'],
      dependents: ['docs'],
      projectNotes: 'Python 3.13',
      recentCommits: ['abc123 add cli'],
      limits: { max: 3 },
    });
    expect(text).toBe(
      [
        '## Context',
        '',
        '### Feature\nExport',
        '',
        '### Goal\nUsers can export their library',
        '',
        '### Task\nAdd --json',
        '',
        '### Task state\nin_dev',
        '',
        '### DAG\nA -> B -> C',
        '',
        '### Dependencies\n- parser',
        '',
        '### Dependents\n- docs',
        '',
        '### Project notes\nPython 3.13',
        '',
        '### Recent commits\n- abc123 add cli',
        '',
        '### Attachments\n- design.pdf',
        '',
        '### extraNote\nfree text',
        '',
        '### limits\n{"max":3}',
      ].join('\n'),
    );
  });

  it('renders an empty context, and empty values, as nothing', () => {
    expect(renderContext({})).toBe('');
    expect(
      renderContext({ featureName: '  ', dependencies: [], projectNotes: undefined, other: null, obj: {} }),
    ).toBe('');
    expect(renderContext({ taskTitle: 'T', dependents: [] })).toBe('## Context\n\n### Task\nT');
  });
});

describe('renderAgentDescription', () => {
  it('renders role, instructions, tools and extras; null renders nothing', () => {
    expect(renderAgentDescription(null)).toBe('');
    expect(
      renderAgentDescription({
        role: 'Developer',
        instructions: 'Write tests first.',
        tools: ['Bash', 'Edit'],
        model: 'x',
      }),
    ).toBe(
      '## Agent\n\n### Role\nDeveloper\n\n### Instructions\nWrite tests first.\n\n### Tools\n- Bash\n- ' +
        'Edit\n\n### model\nx',
    );
    expect(renderAgentDescription({ role: 'QA' })).toBe('## Agent\n\n### Role\nQA');
  });
});

describe('contentToText', () => {
  it('returns strings unchanged', () => {
    expect(contentToText('  as is \n')).toBe('  as is \n');
  });

  it('flattens every block type, one per line', () => {
    const blocks: ContentBlock[] = [
      { type: 'text', text: 'Listing files.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'README.md' },
      {
        type: 'tool_result',
        tool_use_id: 'toolu_2',
        content: [{ type: 'text', text: 'no such file' }],
        is_error: true,
      },
      { type: 'thinking', thinking: 'hmm' },
    ];
    expect(contentToText(blocks)).toBe(
      [
        'Listing files.',
        '[tool_use Bash] {"command":"ls"}',
        '[tool_result toolu_1] README.md',
        '[tool_result toolu_2] [error] no such file',
        '[thinking] hmm',
      ].join('\n'),
    );
  });

  it('never throws on odd blocks', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const odd = [
      { type: 'image', source: { data: 'x' } },
      null,
      { type: 'tool_use', id: 't', name: 'X', input: cyclic },
    ] as unknown as ContentBlock[];
    const text = contentToText(odd);
    expect(text).toContain('[image] {"data":"x"}');
    expect(text).toContain('[tool_use X]');
  });
});

describe('oneLine', () => {
  it('returns what collapsing every whitespace run and trimming returns, for any text', () => {
    const spaces = fc.constantFrom(
      ' ',
      '  ',
      '\n',
      '\t',
      '\r\n',
      '\u00a0',
      '\u2003',
      '\ufeff',
      '\u2028',
      '\u3000',
    );
    const text = fc
      .array(fc.oneof(spaces, fc.string({ unit: 'grapheme', maxLength: 6 })), { maxLength: 20 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (value) => {
        expect(oneLine(value)).toBe(value.replace(/\s+/g, ' ').trim());
      }),
      { numRuns: 2000 },
    );
  });
});
