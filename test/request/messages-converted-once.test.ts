/**
 * In `messages` form a frozen message's content is converted into blocks once, and the next build
 * of the session reuses them (src/request/messages-list.ts): what depends on its neighbours (tool
 * results moved up or sent as text, merged turns, breakpoints, a trimmed final text) is done on
 * copies, so a request is the same as one built from unfrozen copies, whatever comes before or
 * after the message, and no build changes what another returned.
 */
import { describe, expect, it } from 'vitest';
import type { ContentBlock, Message, Role } from '../../src/core/types.js';
import { buildRequest, type RequestInput } from '../../src/request/build-request.js';
import { PLACEHOLDER_USER_TEXT, toMessagesList } from '../../src/request/messages-list.js';
import { deepFreeze } from '../../src/store/freeze.js';
import { TiktokenEstimator, createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { ANY_BLOCKS, CONVERSATION } from '../support/sdk-block-samples.js';
import { REQUEST_LIMITS as LIMITS, storedMessage } from '../helpers/fixtures.js';

const estimator = createTokenEstimator({ mode: 'approximate' });

const use = (id: string): ContentBlock => ({ type: 'tool_use', id, name: 'bash', input: { cmd: 'ls' } });
const result = (id: string, content: unknown = 'ok'): ContentBlock =>
  ({ type: 'tool_result', tool_use_id: id, content, cache_control: { type: 'ephemeral' } }) as ContentBlock;

/** Content whose conversion depends on the neighbours: pairs, late and orphan results, merges. */
const CONTENTS: [Role, string | ContentBlock[]][] = [
  ['assistant', 'I start   '],
  ['user', 'fix the build'],
  [
    'user',
    [
      { type: 'text', text: '  ' },
      { type: 'text', text: 'and the tests' },
    ],
  ],
  ['assistant', [{ type: 'text', text: 'looking' }, use('t1'), use('t2')]],
  ['user', [result('t2', [{ type: 'text', text: 'two' }]), { type: 'text', text: 'and' }]],
  ['system', 'Be brief.'],
  ['user', [result('t1', ''), result('t9', 'orphan'), use('t3')]],
  ['assistant', [{ type: 'thinking', thinking: 'unsigned' } as ContentBlock, use('t4')]],
  ['assistant', [use('t1'), { type: 'text', text: 'done  ' }]],
  ['user', [...(CONVERSATION[0]?.content as ContentBlock[])]],
  ['assistant', [...ANY_BLOCKS]],
  ['user', [result('t4', { odd: true })]],
  ['assistant', 'finished\n'],
];

const messagesOf = (): Message[] =>
  CONTENTS.map(([role, content], seq) => storedMessage(seq, role, structuredClone(content)));

const input = (messages: readonly Message[], userMessage: RequestInput['userMessage']): RequestInput => ({
  agentDescription: { role: 'developer' },
  context: null,
  checkpoint: null,
  messages,
  userMessage,
  format: 'messages',
  limits: LIMITS,
  estimator,
});

describe('a frozen message converted once (messages form)', () => {
  it('builds the same requests from frozen messages as from unfrozen copies, for every window', () => {
    const frozen = messagesOf().map((m) => deepFreeze(m));
    const returned: { built: unknown; json: string }[] = [];
    for (const userMessage of [null, 'Go on', [{ type: 'text', text: 'and then?' }] as ContentBlock[]]) {
      for (let from = 0; from < frozen.length; from++) {
        for (let to = from + 1; to <= frozen.length; to++) {
          const built = buildRequest(input(frozen.slice(from, to), userMessage));
          const fresh = buildRequest(input(messagesOf().slice(from, to), userMessage));
          expect(built).toEqual(fresh);
          returned.push({ built, json: JSON.stringify(built) });
        }
      }
    }
    // Later builds, over other neighbours, changed nothing an earlier build returned.
    for (const { built, json } of returned) expect(JSON.stringify(built)).toBe(json);
  });

  it('reads a frozen message’s blocks once, whatever builds follow', () => {
    let reads = 0;
    const watched = deepFreeze(
      Object.defineProperty({ type: 'tool_result', tool_use_id: 't1' }, 'content', {
        enumerable: true,
        get: () => {
          reads++;
          return 'ok';
        },
      }) as ContentBlock,
    );
    const messages = [
      deepFreeze(storedMessage(0, 'assistant', [use('t1')])),
      deepFreeze(storedMessage(1, 'user', [watched])),
      deepFreeze(storedMessage(2, 'assistant', 'done')),
    ];
    const first = toMessagesList(messages, 'Go on');
    const once = reads;
    expect(once).toBeGreaterThan(0);
    expect(toMessagesList(messages, null).messages).toEqual(first.messages.slice(0, 4));
    expect(toMessagesList(messages.slice(1), 'Go on').messages[0]?.content).toEqual([
      { type: 'text', text: '[tool_result t1] ok' },
    ]);
    buildRequest(input(messages, 'Go on'));
    expect(reads).toBe(once);
  });

  it('counts the placeholder of a list that starts with the assistant once per estimator', () => {
    const counted: string[] = [];
    const listing = new (class extends TiktokenEstimator {
      override estimate(text: string): number {
        counted.push(text);
        return super.estimate(text);
      }
    })();
    const messages = [
      deepFreeze(storedMessage(0, 'assistant', 'hello')),
      deepFreeze(storedMessage(1, 'user', 'hi')),
    ];
    const build = () => buildRequest({ ...input(messages, null), estimator: listing });
    const first = build();
    const placeholder = { type: 'text', text: PLACEHOLDER_USER_TEXT };
    expect(first.messages[0]?.content).toEqual([{ ...placeholder, cache_control: { type: 'ephemeral' } }]);
    expect(counted).toContain(PLACEHOLDER_USER_TEXT);
    counted.length = 0;
    expect(build()).toEqual(first);
    expect(counted).not.toContain(PLACEHOLDER_USER_TEXT);
    const fresh = buildRequest({ ...input(messages, null), estimator: createTokenEstimator() });
    expect(fresh).toEqual(first);
    // The breakpoint went on a copy: the list alone still has none.
    expect(toMessagesList(messages, null).messages[0]?.content).toEqual([placeholder]);
  });

  it('converts an unfrozen message again at every build, so that an edit shows', () => {
    const messages = [storedMessage(0, 'user', [{ type: 'text', text: 'one' }] as ContentBlock[])];
    expect(toMessagesList(messages, null).messages[0]?.content).toEqual([{ type: 'text', text: 'one' }]);
    (messages[0]?.content as ContentBlock[]).push({ type: 'text', text: 'two' });
    expect(toMessagesList(messages, null).messages[0]?.content).toEqual([
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
    ]);
  });
});
