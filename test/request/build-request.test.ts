import type Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { omissionCuts, toolResultIds, toolUseIds } from '../../src/core/tool-pair-cuts.js';
import type { Checkpoint, ContentBlock, Message, Role, TextBlock } from '../../src/core/types.js';
import { buildRequest, type BuiltRequest, type RequestInput } from '../../src/request/build-request.js';
import { toolResultText } from '../../src/request/format.js';
import {
  MISSING_RESULT_TEXT,
  PLACEHOLDER_USER_TEXT,
  assertValidMessagesList,
  toMessagesList,
  type MessageBlockParam,
  type MessageParamLike,
} from '../../src/request/messages-list.js';
import { BLOCK_OVERHEAD_TOKENS, createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { REQUEST_LIMITS as LIMITS, storedMessage } from '../helpers/fixtures.js';

const estimator = createTokenEstimator({ mode: 'approximate' });
let seq = 0;
const msg = (role: Role, content: string | ContentBlock[]): Message =>
  storedMessage(seq++, role, content, estimator.estimateMessage({ role, content }));
const use = (id: string, name = 'Bash'): ContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input: { command: `run ${id}` },
});
const result = (id: string, content = `out ${id}`): ContentBlock => ({
  type: 'tool_result',
  tool_use_id: id,
  content,
});
const text = (t: string): TextBlock & Anthropic.TextBlockParam => ({ type: 'text', text: t });
const build = (over: Partial<RequestInput>): BuiltRequest =>
  buildRequest({
    agentDescription: null,
    context: null,
    checkpoint: null,
    messages: [],
    userMessage: null,
    format: 'messages',
    limits: LIMITS,
    estimator,
    cache: false, // the lists below are compared whole; caching has its own tests
    ...over,
  });
const CHECKPOINT: Checkpoint = {
  version: 1,
  createdAt: '',
  updatedAt: '',
  summary: { completed: ['ran tests'], inProgress: [], pending: ['write docs'], decisions: [], blockers: [] },
  checks: [{ checkId: 'unit', passed: true }],
  compactionInfo: {} as Checkpoint['compactionInfo'],
  tokens: 0,
};

describe('buildRequest', () => {
  it('builds an empty session: nothing but the reply reserve, and the new user message', () => {
    const empty = build({});
    expect(empty).toMatchObject({
      systemPrompt: '',
      userPrompt: '',
      messages: [],
      totalTokens: 100,
      omittedMessages: 0,
      fits: true,
    });
    const withUser = build({ userMessage: 'hi' });
    expect(withUser.messages).toEqual([{ role: 'user', content: [text('hi')] }]);
    // Sent as a text block of the list: the block's framing counts too.
    expect(withUser.breakdown.userPrompt).toBe(
      estimator.estimateMessage({ role: 'user', content: 'hi' }) + BLOCK_OVERHEAD_TOKENS,
    );
    const params: Anthropic.MessageParam[] = withUser.messages; // the SDK accepts the list as is
    expect(params).toHaveLength(1);
  });

  it('renders the agent, the context and the checkpoint into the system prompt, skipping empty parts', () => {
    const built = build({
      agentDescription: { role: 'Developer' },
      context: {},
      checkpoint: CHECKPOINT,
      userMessage: 'go',
    });
    expect(built.systemPrompt).toBe(
      '## Agent\n\n### Role\nDeveloper\n\n## Checkpoint\n\n### Next\n- write docs\n\n### Completed\n- ' +
        'ran tests\n\n### Checks\n- [x] unit',
    );
    expect(built.breakdown.context).toBe(0);
    expect(built.breakdown.checkpoint).toBe(
      estimator.estimate(built.systemPrompt.slice(built.systemPrompt.indexOf('## Checkpoint'))),
    );
    const { total, ...parts } = built.breakdown;
    expect(total).toBe(Object.values(parts).reduce((a, b) => a + b, 0));
  });

  it('flattens live messages into the system prompt, or sends them as a list', () => {
    const messages = [
      msg('user', 'Fix the bug'),
      msg('system', 'Task moved to in_dev'),
      msg('assistant', [use('t1')]),
      msg('user', [result('t1')]),
    ];
    const flat = build({ messages, userMessage: 'Next?', format: 'flattened' });
    expect(flat.messages).toEqual([{ role: 'user', content: 'Next?' }]);
    expect(flat.systemPrompt).toContain(
      '## Conversation so far\n\n### user\nFix the bug\n\n### system\nTask moved to in_dev\n\n### ' +
        'assistant\n[tool_use Bash]',
    );
    expect(flat.breakdown.messages).toBeGreaterThanOrEqual(messages.reduce((s, m) => s + m.tokens, 0));
    const list = build({ messages, userMessage: 'Next?' });
    expect(list.systemPrompt).toBe('## System messages\n\nTask moved to in_dev');
    expect(list.messages).toEqual([
      { role: 'user', content: [text('Fix the bug')] },
      { role: 'assistant', content: [use('t1')] },
      { role: 'user', content: [result('t1'), text('Next?')] },
    ]);
  });

  it('merges consecutive messages of one role and drops blank text', () => {
    const messages = [
      msg('user', 'a'),
      msg('user', [text('b'), text('  ')]),
      msg('assistant', ''),
      msg('assistant', 'c  \n'),
    ];
    expect(build({ messages }).messages).toEqual([
      { role: 'user', content: [text('a'), text('b')] },
      { role: 'assistant', content: [text('c')] }, // a final assistant text may not end with whitespace
    ]);
  });

  it('answers parallel calls first thing in the next message, moving later results up', () => {
    const messages = [
      msg('user', 'go'),
      msg('assistant', [text('two calls'), use('a'), use('b')]),
      msg('user', [text('also this'), result('b')]),
      msg('assistant', 'waiting'),
      msg('user', [result('a')]),
    ];
    const built = build({ messages, userMessage: 'ok' });
    expect(built.messages).toEqual([
      { role: 'user', content: [text('go')] },
      { role: 'assistant', content: [text('two calls'), use('a'), use('b')] },
      { role: 'user', content: [result('a'), result('b'), text('also this')] },
      { role: 'assistant', content: [text('waiting')] },
      { role: 'user', content: [text('ok')] },
    ]);
    assertValidMessagesList(built.messages);
  });

  it('turns results whose call is not in the list into text, keeping their content', () => {
    const built = build({
      messages: [msg('user', [result('gone', 'old output')]), msg('assistant', 'noted')],
      userMessage: 'next',
    });
    expect(built.messages[0]).toEqual({ role: 'user', content: [text('[tool_result gone] old output')] });
    assertValidMessagesList(built.messages);
  });

  it('answers a call awaiting its result at the end with the new message, or a synthetic error result', () => {
    const messages = [msg('user', 'list files'), msg('assistant', [use('t9')])];
    const answered = build({ messages, userMessage: [text('here'), result('t9', 'a.ts')] });
    expect(answered.messages[2]).toEqual({ role: 'user', content: [result('t9', 'a.ts'), text('here')] });
    const missing = { type: 'tool_result', tool_use_id: 't9', content: MISSING_RESULT_TEXT, is_error: true };
    const unanswered = build({ messages, userMessage: 'never mind' });
    expect(unanswered.messages[2]).toEqual({ role: 'user', content: [missing, text('never mind')] });
    const preview = build({ messages, userMessage: null });
    expect(preview.messages[2]).toEqual({ role: 'user', content: [missing] });
    // the synthetic turn is counted
    expect(preview.breakdown.messages).toBeGreaterThan(messages[0]!.tokens + messages[1]!.tokens);
    for (const b of [answered, unanswered, preview]) assertValidMessagesList(b.messages);
  });

  it('keeps signed thinking blocks where they are; unsigned thinking becomes text', () => {
    const thinking: ContentBlock = { type: 'thinking', thinking: 'check first', signature: 'sig' };
    const messages = [
      msg('user', 'q'),
      msg('assistant', [thinking, use('t1')]),
      msg('user', [result('t1')]),
      msg('assistant', [{ type: 'thinking', thinking: 'hm' }, text('done')]),
    ];
    const built = build({ messages, userMessage: 'thanks' });
    expect(built.messages[1]).toEqual({ role: 'assistant', content: [thinking, use('t1')] });
    expect(built.messages[3]).toEqual({ role: 'assistant', content: [text('[thinking] hm'), text('done')] });
  });

  it('starts with a placeholder user message when the live messages start with the assistant', () => {
    const built = build({ messages: [msg('assistant', 'resuming')], userMessage: 'go on' });
    expect(built.messages[0]).toEqual({ role: 'user', content: [text(PLACEHOLDER_USER_TEXT)] });
    assertValidMessagesList(built.messages);
  });

  it('leaves out the oldest messages, whole tool pairs at a time, when over the limit', () => {
    const big = 'word '.repeat(200);
    const messages = [
      msg('user', big),
      msg('assistant', [use('x')]),
      msg('user', [result('x', big)]),
      msg('assistant', 'short'),
      msg('user', 'last'),
    ];
    const all = build({ messages, userMessage: 'now' });
    // Room for everything but the first three messages (the pair x must go with them).
    const maxTokens = all.totalTokens - messages[0]!.tokens - 1;
    const built = build({ messages, userMessage: 'now', limits: { ...LIMITS, maxTokens } });
    expect(built.fits).toBe(true);
    expect(built.omittedMessages).toBe(3);
    expect(built.omittedTokens).toBe(messages[0]!.tokens + messages[1]!.tokens + messages[2]!.tokens);
    expect(built.systemPrompt).toContain('3 earlier message(s)');
    expect(built.messages[0]).toEqual({ role: 'user', content: [text(PLACEHOLDER_USER_TEXT)] });
    expect(built.totalTokens).toBeLessThanOrEqual(maxTokens);
  });

  it('returns fits: false when the fixed parts alone pass the limit', () => {
    const built = build({
      messages: [msg('user', 'a'), msg('assistant', 'b')],
      userMessage: 'word '.repeat(500),
      limits: { ...LIMITS, maxTokens: 200 },
    });
    expect(built.fits).toBe(false);
    expect(built.omittedMessages).toBe(2);
    expect(built.totalTokens).toBeGreaterThan(200);
  });

  it('multiplies estimates by the correction, not the reply reserve', () => {
    const base = build({ messages: [msg('user', 'hello there')], userMessage: 'x' });
    const corrected = build({ messages: [msg('user', 'hello there')], userMessage: 'x', correction: 2 });
    expect(corrected.breakdown.messages).toBe(base.breakdown.messages * 2);
    expect(corrected.breakdown.replyReserve).toBe(base.breakdown.replyReserve);
  });

  it(
    'counts what it renders, in both formats: tool labels and ids, ' +
      'headings, joins (exact counts, 340 tool calls)',
    () => {
      const exact = createTokenEstimator();
      const id = (i: number) => `toolu_01${String(i).padStart(4, '0')}Xq7RtLmNcPzWvYbKd2`;
      const messages: Message[] = [];
      for (let i = 0; i < 340; i++) {
        const call: ContentBlock = {
          type: 'tool_use',
          id: id(i),
          name: 'Bash',
          input: { command: `ls src/dir${i}` },
        };
        const answer: ContentBlock = {
          type: 'tool_result',
          tool_use_id: id(i),
          content: `a${i}.ts\nb${i}.ts`,
        };
        for (const [role, content] of [
          ['assistant', [call]],
          ['user', [answer]],
        ] as const)
          messages.push({
            ...msg(role, [...content]),
            tokens: exact.estimateMessage({ role, content: [...content] }),
          });
      }
      const limits = { ...LIMITS, maxTokens: 12_000, replyReserveTokens: 600 };
      for (const format of ['flattened', 'messages'] as const) {
        const built = buildRequest({
          agentDescription: null,
          context: null,
          checkpoint: null,
          messages,
          userMessage: 'What next?',
          format,
          limits,
          estimator: exact,
        });
        const rendered =
          exact.estimate(built.systemPrompt) +
          built.messages.reduce((sum, m) => sum + exact.estimateMessage(m as Message), 0) +
          built.breakdown.replyReserve;
        expect(
          rendered,
          `${format}: rendered ${rendered}, reported ${built.totalTokens}`,
        ).toBeLessThanOrEqual(built.totalTokens);
        expect(rendered, `${format}: rendered ${rendered} against a limit of 12,000`).toBeLessThanOrEqual(
          12_000,
        );
        // As a transcript the 340 calls do not fit: the oldest are left out (as a list they do).
        if (format === 'flattened') expect(built.omittedMessages).toBeGreaterThan(0);
        // Counted closely, not by a blanket margin: within 5% of what is rendered.
        expect(built.totalTokens).toBeLessThan(rendered * 1.05);
      }
    },
  );

  it('rejects invalid input', () => {
    const bad: Array<Partial<RequestInput>> = [
      { format: 'xml' as never },
      { limits: { ...LIMITS, maxTokens: 0 } },
      { correction: -1 },
      { messages: [{ ...msg('user', 'a'), tokens: Number.NaN }] },
    ];
    for (const over of bad)
      expect(() => build(over)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', origin: 'runtime' }),
      );
  });
});

describe('assertValidMessagesList', () => {
  const cases: Array<[string, MessageParamLike[]]> = [
    ['empty', []],
    ['starts with assistant', [{ role: 'assistant', content: 'hi' }]],
    [
      'same role twice',
      [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    ],
    ['blank text', [{ role: 'user', content: [text(' ')] }]],
    [
      'unanswered call',
      [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: [use('t')] as MessageBlockParam[] },
      ],
    ],
    ['orphan result', [{ role: 'user', content: [result('t')] as MessageBlockParam[] }]],
    [
      'result after text',
      [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: [use('t')] as MessageBlockParam[] },
        { role: 'user', content: [text('x'), result('t')] as MessageBlockParam[] },
      ],
    ],
    [
      'trailing whitespace',
      [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b ' },
      ],
    ],
  ];
  it.each(cases)('rejects %s', (_name, list) => {
    expect(() => assertValidMessagesList(list)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', origin: 'runtime' }),
    );
  });
  it('accepts what toMessagesList builds from a typical session', () => {
    const { messages } = toMessagesList(
      [msg('user', 'a'), msg('assistant', [use('t')]), msg('user', [result('t')])],
      'b',
    );
    expect(() => assertValidMessagesList(messages)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

type Step =
  | { kind: 'text'; role: Role; text: string }
  | {
      kind: 'tools';
      calls: number;
      thinking: 'none' | 'signed' | 'unsigned';
      results: 'next' | 'shuffled' | 'later' | 'split' | 'never';
    }
  | { kind: 'orphan' };

const word = fc.constantFrom('edit', 'src/a.ts', 'npm test', 'passed', 'données', '测试', '🙂', '  ', '\n');
const textArb = fc.array(word, { minLength: 1, maxLength: 30 }).map((w) => w.join(' '));
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      role: fc.constantFrom<Role>('user', 'assistant', 'system'),
      text: textArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('tools' as const),
      calls: fc.integer({ min: 1, max: 3 }),
      thinking: fc.constantFrom('none' as const, 'signed' as const, 'unsigned' as const),
      results: fc.constantFrom(
        'next' as const,
        'shuffled' as const,
        'later' as const,
        'split' as const,
        'never' as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('orphan' as const) }) },
);

/** Live messages from steps, and the ids of calls still awaiting their result at the end. */
function session(steps: Step[]): { messages: Message[]; pending: string[] } {
  const messages: Message[] = [];
  let n = 0;
  let pending: string[] = [];
  let later: ContentBlock[] = [];
  for (const step of steps) {
    pending = [];
    if (step.kind === 'text') {
      messages.push(msg(step.role, `${step.text} #${n++}`));
    } else if (step.kind === 'orphan') {
      messages.push(msg('user', [result(`gone${n++}`)]));
    } else {
      const ids = Array.from({ length: step.calls }, () => `toolu_${n++}`);
      const thinking: ContentBlock[] =
        step.thinking === 'none'
          ? []
          : [
              {
                type: 'thinking',
                thinking: `think #${n++}`,
                ...(step.thinking === 'signed' ? { signature: 's' } : {}),
              },
            ];
      messages.push(msg('assistant', [...thinking, ...ids.map((id) => use(id))]));
      const results = ids.map((id) => result(id, `output of ${id}`));
      if (step.results === 'next') messages.push(msg('user', results));
      if (step.results === 'shuffled')
        messages.push(msg('user', [text(`see #${n++}`), ...results.reverse()]));
      if (step.results === 'split') for (const r of results) messages.push(msg('user', [r]));
      if (step.results === 'later') later.push(...results);
      if (step.results === 'never') pending = ids;
      continue;
    }
    if (later.length > 0) messages.push(msg('user', later));
    later = [];
  }
  return { messages, pending };
}

/** Every string the model would read from a built request. */
function haystack(built: BuiltRequest): string {
  const parts = [built.systemPrompt];
  for (const m of built.messages) {
    for (const block of typeof m.content === 'string' ? [text(m.content)] : m.content) {
      if (block.type === 'text') parts.push(block.text);
      if (block.type === 'thinking') parts.push(block.thinking);
      if (block.type === 'tool_use') parts.push(block.name);
      if (block.type === 'tool_result') parts.push(toolResultText(block.content));
    }
  }
  return parts.join('\n');
}

/** A built request counted again as rendered: its system prompt and every message of its list. */
function recount(built: BuiltRequest, counter: typeof estimator, correction: number): number {
  const local =
    counter.estimate(built.systemPrompt) +
    built.messages.reduce((sum, m) => sum + counter.estimateMessage(m as Message), 0);
  return Math.ceil(local * correction) + built.breakdown.replyReserve;
}

/** The readable fragments of a message's content. */
function fragments(content: string | ContentBlock[]): string[] {
  const blocks = typeof content === 'string' ? [text(content)] : content;
  return blocks
    .map((b) =>
      (b.type === 'text'
        ? b.text
        : b.type === 'thinking'
          ? b.thinking
          : b.type === 'tool_use'
            ? b.name
            : toolResultText((b as { content?: unknown }).content)
      ).trim(),
    )
    .filter((f) => f !== '');
}

describe('buildRequest properties', () => {
  const inputArb = fc.record({
    steps: fc.array(stepArb, { maxLength: 40 }),
    user: fc.constantFrom('none' as const, 'text' as const, 'answers' as const),
    format: fc.constantFrom('messages' as const, 'flattened' as const),
    budget: fc.double({ min: 0.1, max: 1.2, noNaN: true }),
    reserve: fc.integer({ min: 0, max: 50 }),
    correction: fc.double({ min: 0.5, max: 2, noNaN: true }),
    agent: fc.boolean(),
    cache: fc.boolean(),
  });

  it('keeps its invariants on generated sessions', () => {
    fc.assert(
      fc.property(inputArb, (p) => {
        const { messages, pending } = session(p.steps);
        const userMessage =
          p.user === 'none'
            ? null
            : p.user === 'text'
              ? 'what next?'
              : [...pending.map((id) => result(id, `late ${id}`)), text('answers')];
        // A limit around the session's size, so that omission and fits: false both happen.
        const maxTokens = Math.max(
          1,
          Math.round(p.budget * (messages.reduce((s, m) => s + m.tokens, 0) + 120)),
        );
        const limits = { ...LIMITS, maxTokens, replyReserveTokens: p.reserve };
        const built = build({
          messages,
          userMessage,
          format: p.format,
          limits,
          correction: p.correction,
          agentDescription: p.agent ? { role: 'Dev' } : null,
          cache: p.cache,
        });

        // invariant: the system prompt is its blocks joined; a breakpoint only on its stable part, when caching
        expect(built.system.map((b) => b.text).join('\n\n')).toBe(built.systemPrompt);
        expect(built.system.filter((b) => b.cache_control !== undefined)).toHaveLength(
          p.cache && p.agent ? 1 : 0,
        );
        // invariant: at most 4 breakpoints in all, none on thinking, none without caching
        const marks = JSON.stringify(built).split('"cache_control"').length - 1;
        expect(marks).toBeLessThanOrEqual(p.cache ? 4 : 0);
        for (const m of built.messages)
          for (const b of typeof m.content === 'string' ? [] : m.content)
            if ('cache_control' in b) expect(b.type).not.toMatch(/thinking/);

        // invariant: a built request never passes the limit when fits is true (and says so when it does)
        expect(built.fits).toBe(built.totalTokens <= maxTokens);
        expect(built.breakdown.total).toBe(built.totalTokens);
        // invariant: what is rendered, counted again, is never more than what is reported
        expect(recount(built, estimator, p.correction)).toBeLessThanOrEqual(built.totalTokens);

        // invariant: omitted messages are a prefix at a cut that keeps tool pairs whole
        const k = built.omittedMessages;
        expect(built.omittedTokens).toBe(messages.slice(0, k).reduce((s, m) => s + m.tokens, 0));
        const omittedUses = new Set(messages.slice(0, k).flatMap((m) => toolUseIds(m)));
        const keptResults = [...messages.slice(k), { content: userMessage ?? '' }].flatMap((m) =>
          toolResultIds(m),
        );
        expect(keptResults.filter((id) => omittedUses.has(id))).toEqual([]);
        if (!built.fits) expect(k).toBe(omissionCuts(messages, userMessage).lastIndexOf(true));

        if (p.format === 'messages' && built.messages.length > 0) {
          // invariant: roles alternate starting with user
          built.messages.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
          // invariant: every tool_use is answered in the next message, every tool_result answers the previous one
          built.messages.forEach((m, i) => {
            const blocks = m.content as MessageBlockParam[];
            const uses = blocks.flatMap((b) => (b.type === 'tool_use' ? [b.id] : []));
            const answered = ((built.messages[i + 1]?.content ?? []) as MessageBlockParam[]).flatMap((b) =>
              b.type === 'tool_result' ? [b.tool_use_id] : [],
            );
            expect([...answered].sort()).toEqual([...uses].sort());
          });
          expect(() => assertValidMessagesList(built.messages)).not.toThrow();
          const params: Anthropic.MessageParam[] = built.messages;
          expect(params).toBe(built.messages);
        }
        if (p.format === 'flattened')
          expect(built.messages.every((m) => m.role === 'user' && typeof m.content === 'string')).toBe(true);

        // invariant: no message content is lost except the omitted messages'
        const seen = haystack(built);
        for (const m of messages.slice(k)) for (const f of fragments(m.content)) expect(seen).toContain(f);
      }),
      { numRuns: 400 },
    );
  });

  it(
    'reports at least what it renders with exact counts, ' +
      'whatever the text at the joins (whitespace, punctuation, unicode)',
    () => {
      const exact = createTokenEstimator();
      const piece = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.constantFrom('\n', '\n\n', ' ', '  ', '.', '...', '```', '#', '—', '🙂', 'ok', '\t', '\r\n'),
      );
      const textArb2 = fc.array(piece, { minLength: 1, maxLength: 8 }).map((p) => p.join(''));
      const messageArb = fc.tuple(
        fc.constantFrom<Role>('user', 'assistant', 'system'),
        fc.oneof(
          textArb2,
          fc.tuple(textArb2, textArb2).map(([a, b]): ContentBlock[] => [text(a), text(b)]),
        ),
      );
      fc.assert(
        fc.property(
          fc.array(messageArb, { maxLength: 15 }),
          fc.option(textArb2, { nil: null }),
          fc.constantFrom('messages' as const, 'flattened' as const),
          textArb2,
          (raw, user, format, role) => {
            const messages = raw.map(([r, content]) => ({
              ...msg(r, content),
              tokens: exact.estimateMessage({ role: r, content }),
            }));
            const built = buildRequest({
              agentDescription: { role },
              context: null,
              checkpoint: null,
              messages,
              userMessage: user,
              format,
              limits: LIMITS,
              estimator: exact,
            });
            expect(recount(built, exact, 1)).toBeLessThanOrEqual(built.totalTokens);
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('lists anything as a valid Messages API list (duplicate ids, results before calls, wrong roles)', () => {
    const id = fc.constantFrom('a', 'b', 'c');
    const blockArb: fc.Arbitrary<ContentBlock> = fc.oneof(
      textArb.map((t) => text(t)),
      id.map((i) => use(i)),
      fc.tuple(id, fc.constantFrom('', ' ', 'out')).map(([i, c]) => result(i, c)),
      fc.record({
        type: fc.constant('thinking' as const),
        thinking: textArb,
        signature: fc.constantFrom('s', ''),
      }),
    );
    const messageArb = fc.tuple(
      fc.constantFrom<Role>('user', 'assistant', 'system'),
      fc.oneof(textArb, fc.array(blockArb, { maxLength: 4 })),
    );
    const userArb = fc.option(fc.oneof(textArb, fc.array(blockArb, { maxLength: 3 })), { nil: null });
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 12 }), userArb, (raw, user) => {
        // invariant: the list is empty or valid for the Messages API, whatever the session holds
        const { messages } = toMessagesList(
          raw.map(([role, content]) => msg(role, content)),
          user,
        );
        if (messages.length > 0) assertValidMessagesList(messages);
      }),
      { numRuns: 1_000 },
    );
  });
});
