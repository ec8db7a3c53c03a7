/**
 * Counts of appends off the caller's path, on the real runtime: text goes to the actor with its
 * bound and is counted on the worker while it is written (a count known by then is taken with the
 * write: test/machines/uncounted-appends.test.ts), tool calls and results too; media are counted
 * first (their cost is by pixels and pages, which bytes do not bound). Reads
 * and files hold exact counts. A count a crash lost is taken again at load, by a read-only runtime
 * too (which cannot record it, and kept the bound before).
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { ContentBlock, MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';
import { PNG_37X23 } from '../support/sdk-block-samples.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'counted-while-written' };
const estimator = createTokenEstimator();
const exact = (m: MessageInput) => estimator.estimateMessage(m);
const screenshot: ContentBlock = {
  type: 'image',
  source: { type: 'base64', media_type: 'image/png', data: PNG_37X23 },
};

/** A turn of an agent: text, a tool call, its result (a few hundred bytes each). */
function turn(i: number): MessageInput[] {
  const call: ContentBlock[] = [
    { type: 'text', text: `Step ${i}: listing the files again. `.repeat(8) },
    {
      type: 'tool_use',
      id: `toolu_${i}`,
      name: 'bash',
      input: { command: `ls -la src/${i}`, cwd: `/work/step-${i}` },
    },
  ];
  const result: ContentBlock[] = [
    { type: 'tool_result', tool_use_id: `toolu_${i}`, content: `file-${i}.ts\n`.repeat(40) },
  ];
  return [
    { role: 'user', content: `Please look at step ${i}. `.repeat(20) },
    { role: 'assistant', content: call },
    { role: 'user', content: result },
  ];
}

/** The session events the actor received while `on` is true, and whether each append came uncounted. */
function recorder() {
  const seen = { on: false, events: [] as string[], uncounted: [] as boolean[] };
  const inspect = (event: InspectionEvent) => {
    if (!seen.on || event.type !== '@xstate.event') return;
    if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
    const e = event.event as { type: string; uncounted?: boolean };
    if (e.type.startsWith('xstate.') || e.type.startsWith('PERSIST')) return; // its own effects
    seen.events.push(e.type);
    if (e.type === 'APPEND') seen.uncounted.push(e.uncounted === true);
  };
  return { seen, inspect };
}

describe('appends counted while they are written', () => {
  it('appends text, tool calls and results uncounted, media counted; reads and files hold exact counts', async () => {
    const root = await tempRoot();
    const { seen, inspect } = recorder();
    const runtime = await createSessionRuntime({ root, inspect, limits: { maxTokens: 1_000_000 } });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, { role: 'user', content: 'first: loads the session and the tokenizer' });
    const inputs = Array.from({ length: 10 }, (_, i) => turn(i)).flat();
    inputs.splice(4, 0, { role: 'user', content: [{ type: 'text', text: 'this screen:' }, screenshot] });
    seen.on = true;
    const returned = [];
    for (const input of inputs) returned.push(await runtime.addMessage(id, input));
    seen.on = false;
    // Text, tool calls and results went with their bound; the image was counted before its write.
    expect(seen.uncounted).toEqual(inputs.map((m) => m.content[1] !== screenshot));
    expect(seen.events.filter((e) => e !== 'COUNTED')).toEqual(inputs.map(() => 'APPEND'));
    for (const [i, m] of returned.entries()) {
      // Exact if counted by the time it was durable, else its bound: never below the exact count.
      expect([exact(inputs[i]!), estimator.boundMessage(inputs[i]!) ?? exact(inputs[i]!)]).toContain(
        m.tokens,
      );
    }
    const history = await runtime.getHistory(id);
    expect(history.slice(1).map((m) => m.tokens)).toEqual(inputs.map(exact));
    await runtime.close();

    // On disk each count is exact, in a count record (the last one written at close).
    const store = await JsonFileSessionStore.open({ root, readOnly: true });
    const head = await store.load(id);
    expect(head.messages.slice(1).map((m) => m.tokens)).toEqual(inputs.map(exact));
    expect(head.uncounted).toEqual([]);
    await store.close();
  });

  it('counts again, in a read-only runtime too, a message whose count a crash lost', async () => {
    const root = await tempRoot();
    const first = await createSessionRuntime({ root });
    const { id } = await first.createSession(KEY);
    await first.close();
    // What a crash right after the acknowledgement leaves: the message, without its count.
    const input = turn(3)[0]!;
    const bound = estimator.boundMessage(input)!;
    const store = await JsonFileSessionStore.open({ root });
    const message = { ...input, id: 'msg_1', timestamp: new Date().toISOString(), seq: 0, tokens: bound };
    await store.append(id, [message as never], { uncounted: [0] });
    await store.close();

    const reader = await createSessionRuntime({ root, readOnly: true });
    expect((await reader.getHistory(id)).map((m) => m.tokens)).toEqual([exact(input)]);
    expect((await reader.estimateSize(id)).breakdown.messages).toBe(exact(input));
    await reader.close();
  });

  it('asks for the count after the append reached the actor: hashing and the worker stay off its way', async () => {
    const asked: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type !== '@xstate.event') return;
      if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
      if (event.event.type === 'APPEND') asked.push('handed over');
    };
    const counting: TokenEstimator = {
      name: estimator.name,
      estimate: (text) => estimator.estimate(text),
      estimateContent: (content) => estimator.estimateContent(content),
      estimateMessage: (message) => estimator.estimateMessage(message),
      boundMessage: (message) => estimator.boundMessage(message),
      estimateMessageLater: (message) => {
        asked.push('count asked');
        return estimator.estimateMessageLater(message);
      },
      estimateMessages: (messages) => estimator.estimateMessages(messages),
      estimateCheckpoint: (checkpoint) => estimator.estimateCheckpoint(checkpoint),
    };
    const runtime = await createSessionRuntime({ root: await tempRoot(), inspect, estimator: counting });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, { role: 'user', content: 'first: loads the session' });
    await runtime.estimateSize(id);
    asked.length = 0;
    for (let i = 0; i < 3; i++) {
      await runtime.addMessage(id, turn(i)[0]!);
      // Each append is made with nothing else pending (the last one's count and bookkeeping done).
      await runtime.estimateSize(id);
    }
    expect(asked).toEqual([
      'handed over',
      'count asked',
      'handed over',
      'count asked',
      'handed over',
      'count asked',
    ]);
    expect((await runtime.getHistory(id)).slice(1).map((m) => m.tokens)).toEqual(
      [0, 1, 2].map((i) => exact(turn(i)[0]!)),
    );
    await runtime.close();
  });
});
