/**
 * Every content block through request building: sent back verbatim in `messages` form (images
 * inside tool results stay images, signed and redacted thinking stay as they are, citations and
 * server tool blocks too), rendered as readable labels in `flattened` form, never as base64.
 */
import { describe, expect, it } from 'vitest';
import type { ContentBlock, Limits, Message, Role } from '../../src/core/types.js';
import { buildRequest } from '../../src/request/build-request.js';
import { contentToText } from '../../src/request/format.js';
import { assertValidMessagesList, toMessagesList } from '../../src/request/messages-list.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import {
  ANY_BLOCKS,
  ASSISTANT_BLOCKS,
  CONVERSATION,
  JPEG_1000X750,
  PDF_3_PAGES,
  PNG_37X23,
  USER_BLOCKS,
} from '../support/sdk-block-samples.js';
import { storedMessage } from '../helpers/fixtures.js';

const estimator = createTokenEstimator({ mode: 'approximate' });
const LIMITS: Limits = {
  maxTokens: 200_000,
  compactAt: 0.9,
  keepRecentTokens: 20_000,
  replyReserveTokens: 1_000,
  checkpointTokens: 10_000,
};
const message = (role: Role, content: string | ContentBlock[], seq: number): Message =>
  storedMessage(seq, role, content, estimator.estimateMessage({ role, content }));
const live = CONVERSATION.map((m, i) => message(m.role, m.content as ContentBlock[], i));
const build = (format: 'messages' | 'flattened', cache = false) =>
  buildRequest({
    agentDescription: { role: 'Developer' },
    context: null,
    checkpoint: null,
    messages: live,
    userMessage: 'Go on',
    format,
    limits: LIMITS,
    estimator,
    cache,
  });

describe('messages form: blocks go back to the API as they were stored', () => {
  it('every block of every type, in order, unchanged (the new user message appended)', () => {
    const { messages } = toMessagesList(live, null);
    expect(messages).toEqual([
      { role: 'user', content: USER_BLOCKS },
      { role: 'assistant', content: ASSISTANT_BLOCKS },
      { role: 'user', content: ANY_BLOCKS },
    ]);
    const built = build('messages');
    expect(built.messages.slice(0, 2)).toEqual(messages.slice(0, 2));
    expect(built.messages[2]?.content).toEqual([...ANY_BLOCKS, { type: 'text', text: 'Go on' }]);
    assertValidMessagesList(built.messages);
  });

  it('an image in a tool_result stays an image block, its base64 intact, never text', () => {
    const built = build('messages');
    const result = (built.messages[2]?.content as unknown as Array<Record<string, unknown>>)[0]!;
    expect(result.type).toBe('tool_result');
    const parts = result.content as Array<Record<string, unknown>>;
    expect(parts.map((p) => p.type)).toEqual(['text', 'image', 'tool_reference']);
    expect((parts[1]!.source as { data: string }).data).toBe(PNG_37X23);
    const texts = built.messages.flatMap((m) =>
      typeof m.content === 'string'
        ? [m.content]
        : m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])),
    );
    expect(texts.join('\n')).not.toContain(PNG_37X23.slice(0, 40));
  });

  it('a block on the wrong side becomes a label (an image from the assistant), never its base64', () => {
    const odd = [
      message('user', 'Look', 0),
      message(
        'assistant',
        [
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: JPEG_1000X750 } },
          { type: 'text', text: 'Done.' },
        ],
        1,
      ),
    ];
    const { messages, convertedBlocks } = toMessagesList(odd, 'Next');
    expect(messages[1]?.content).toEqual([
      {
        type: 'text',
        text: `[image: image/jpeg, 1000x750, ${Buffer.from(JPEG_1000X750, 'base64').length} bytes]`,
      },
      { type: 'text', text: 'Done.' },
    ]);
    expect(convertedBlocks).toHaveLength(1);
    assertValidMessagesList(messages);
  });

  it('stored cache_control is left out: the request places its own breakpoints', () => {
    const stored = [
      message(
        'user',
        [{ type: 'text', text: 'Cached by the caller', cache_control: { type: 'ephemeral' } }],
        0,
      ),
    ];
    expect(toMessagesList(stored, null).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Cached by the caller' }] },
    ]);
  });

  it(
    'the checker refuses a server tool call or redacted ' +
      'thinking from the user, and an image from the assistant',
    () => {
      expect(() =>
        assertValidMessagesList([{ role: 'user', content: [{ type: 'redacted_thinking', data: 'x' }] }]),
      ).toThrow(/only the assistant sends redacted_thinking/);
      expect(() =>
        assertValidMessagesList([
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }],
          },
        ]),
      ).toThrow(/only the user sends image/);
    },
  );
});

describe('flattened form: readable labels, never base64', () => {
  it('renders every block type sensibly', () => {
    const pngBytes = Buffer.from(PNG_37X23, 'base64').length;
    const pdfBytes = Buffer.from(PDF_3_PAGES, 'base64').length;
    expect(contentToText(USER_BLOCKS).split('\n')).toEqual([
      'Here is what I have: a screenshot, a diagram, the notes and the spec.',
      `[image: image/png, 37x23, ${pngBytes} bytes]`,
      '[image: https://example.com/diagram.png]',
      '[image: file file_011]',
      `[document: Design notes, application/pdf, ${pdfBytes} bytes]`,
      '[document: Store contract]',
      'From the architecture page',
      'The store keeps every message.',
      '[document]',
      'First chunk.',
      `[image: image/png, 37x23, ${pngBytes} bytes]`,
      '[document: https://example.com/spec.pdf]',
      '[search_result: Compaction (https://example.com/wiki/compaction)] A compaction folds old ' +
        'messages into a checkpoint.',
      '[container_upload file_022]',
    ]);
    const assistant = contentToText(ASSISTANT_BLOCKS);
    for (const line of [
      '[thinking] The user wants the failing test found.',
      '[redacted_thinking]',
      '[server_tool_use web_search] {"query":"dagent compaction"}',
      '[web_search_tool_result srvtoolu_01] - Compaction (https://example.com/wiki/compaction)',
      '[web_fetch_tool_result srvtoolu_02] https://example.com/spec.txt',
      'Spec: requests never pass the limit.',
      '[bash_code_execution_tool_result srvtoolu_03] exit 0',
      '12 passed',
      '[tool_search_tool_result srvtoolu_06] git_log',
      '[mcp_tool_use tracker/list_issues] {"state":"open"}',
      '[mcp_tool_result mcptoolu_01] #12 every block type',
      '[container_upload file_033]',
      'The docs say compaction keeps every message.',
      '[tool_use screenshot] {"page":"/inspector"}',
    ])
      expect(assistant).toContain(line);
    expect(contentToText(ANY_BLOCKS)).toBe(
      [
        `[tool_result toolu_01] The inspector at 420 px:`,
        `[image: image/png, 37x23, ${pngBytes} bytes]`,
        '[tool_reference] {"type":"tool_reference","tool_name":"screenshot"}',
        '[hologram] {"type":"hologram","frames":3,"note":"a block type from the future"}',
      ].join('\n'),
    );
  });

  it('no payload reaches the flattened request: no base64, no encrypted content, no signature', () => {
    const built = build('flattened');
    for (const payload of [
      PNG_37X23,
      PDF_3_PAGES,
      'EmwKAhgBEgy3va3pzix',
      'EqgfCioIARgBIiQ3YTAw',
      'EuYBCkQYAiJA0sig',
    ])
      expect(built.systemPrompt).not.toContain(payload.slice(0, 20));
    expect(built.systemPrompt).toContain('[image: image/png, 37x23');
  });
});
