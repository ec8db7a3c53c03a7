/**
 * Messages as the Anthropic SDK makes them: every block type of the installed SDK's
 * `ContentBlockParam` (requests) and `ContentBlock` (replies), beta ones included, is a
 * `ContentBlock` of ours (checked by the compiler: `npm run typecheck` covers this file), and
 * `addMessage` accepts them and stores them verbatim (checked here, against real files).
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ContentBlock, MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { ANY_BLOCKS, ASSISTANT_BLOCKS, PNG_37X23, USER_BLOCKS } from '../support/sdk-block-samples.js';

type BetaTurn = Exclude<Anthropic.Beta.BetaMessageParam, Anthropic.Beta.BetaSystemMessageParam>;
const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'sdk-blocks' };

describe('the SDK block types are ContentBlocks (compile time)', () => {
  it('every input block (ContentBlockParam) and every reply block (ContentBlock), beta included', () => {
    expectTypeOf<Anthropic.ContentBlockParam>().toExtend<ContentBlock>();
    expectTypeOf<Anthropic.ContentBlock>().toExtend<ContentBlock>();
    expectTypeOf<Anthropic.Beta.BetaContentBlockParam>().toExtend<ContentBlock>();
    expectTypeOf<Anthropic.Beta.BetaContentBlock>().toExtend<ContentBlock>();
    // Whole messages: the SDK's MessageParam (user, assistant, system) is a MessageInput.
    expectTypeOf<Anthropic.MessageParam>().toExtend<MessageInput>();
    // Beta user and assistant messages too (a beta system message may have no content at all: the
    // runtime needs content, so that one is not a MessageInput).
    expectTypeOf<BetaTurn>().toExtend<MessageInput>();
  });

  it('addMessage takes a MessageParam and a reply content as they are', () => {
    // Never called: the compiler checks the calls. A cast or an adapter here would defeat the test.
    const calls = async (
      runtime: SessionRuntime,
      id: string,
      param: Anthropic.MessageParam,
      reply: Anthropic.Message,
    ) => {
      await runtime.addMessage(id, param);
      await runtime.addMessage(id, { role: 'assistant', content: reply.content });
      const beta = async (p: BetaTurn, r: Anthropic.Beta.BetaMessage) => {
        await runtime.addMessage(id, p);
        await runtime.addMessage(id, { role: 'assistant', content: r.content });
      };
      return beta;
    };
    expect(typeof calls).toBe('function');
  });
});

describe('addMessage accepts every block type and stores it verbatim', () => {
  it('user-side, assistant-side and unknown blocks round-trip through the files unchanged', async () => {
    const root = await tempRoot();
    let runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(KEY);
    const inputs: MessageInput[] = [
      { role: 'user', content: USER_BLOCKS },
      { role: 'assistant', content: ASSISTANT_BLOCKS },
      { role: 'user', content: ANY_BLOCKS },
    ];
    for (const input of inputs) await runtime.addMessage(id, input);
    await runtime.close();
    // Read back by a new runtime: what is on disk, not what is in memory.
    runtime = await createSessionRuntime({ root });
    const stored = await runtime.getMessages(id);
    expect(stored.map((m) => m.content)).toEqual(inputs.map((m) => m.content));
    await runtime.close();
  });

  it('an image counts against maxMessageBytes by its base64, like any text', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), maxMessageBytes: 4_096 });
    const { id } = await runtime.createSession(KEY);
    const image = (data: string) => ({
      role: 'user' as const,
      content: [
        { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png', data } },
      ],
    });
    await runtime.addMessage(id, image(PNG_37X23)); // 592 characters of base64
    await expect(runtime.addMessage(id, image(PNG_37X23.repeat(8)))).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    });
    expect(await runtime.getMessages(id)).toHaveLength(1);
    await runtime.close();
  });

  it('still refuses what the API would refuse: a block without a type, an image without a source', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const { id } = await runtime.createSession(KEY);
    const refused = [
      [{ text: 'no type' }],
      [{ type: 'image', source: 'not an object' }],
      [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }],
      [{ type: 'redacted_thinking' }],
      [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'image' }] }],
    ];
    for (const content of refused) {
      await expect(
        runtime.addMessage(id, { role: 'user', content } as unknown as MessageInput),
      ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    }
    expect(await runtime.getMessages(id)).toEqual([]);
    await runtime.close();
  });
});
