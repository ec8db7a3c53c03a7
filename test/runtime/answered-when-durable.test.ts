/**
 * An append's caller is answered as soon as its batch is durable; the session actor takes the
 * batch into its figures (and publishes `message.appended`) after the caller resumed. Whatever the
 * caller does next sees the message as stored: a read, a size estimate, a compaction, another
 * append, a close. A count that arrives before the actor took its batch waits for it, so that the
 * actor's `uncounted` figure cannot get stuck (which would hold every threshold compaction back).
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'answered-when-durable' };
const estimator = createTokenEstimator();

/** The events the session actor received (not its own effects' internals) and its last context. */
function recorder() {
  const seen = { events: [] as string[], uncounted: -1 };
  const inspect = (event: InspectionEvent) => {
    if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
    if (event.type === '@xstate.snapshot') {
      const context = (event.snapshot as { context?: { uncounted?: number } }).context;
      if (typeof context?.uncounted === 'number') seen.uncounted = context.uncounted;
    }
    if (event.type !== '@xstate.event') return;
    const type = event.event.type;
    if (type === 'APPEND' || type === 'PERSIST.DONE') seen.events.push(type);
  };
  return { seen, inspect };
}

/** The real estimator, whose counts off the caller's path are held until the test lets them go. */
function heldCounts() {
  const held: (() => void)[] = [];
  const gated: TokenEstimator = {
    name: estimator.name,
    estimate: (text) => estimator.estimate(text),
    estimateContent: (content) => estimator.estimateContent(content),
    estimateMessage: (message) => estimator.estimateMessage(message),
    boundMessage: (message) => estimator.boundMessage(message),
    estimateMessageLater: (message) =>
      new Promise<number>((resolve) => {
        const count = () => resolve(estimator.estimateMessage(message));
        // Released already: the count may be asked for after its append was answered.
        if (released) count();
        else held.push(count);
      }),
    estimateMessages: (messages) => estimator.estimateMessages(messages),
    estimateCheckpoint: (checkpoint) => estimator.estimateCheckpoint(checkpoint),
  };
  let released = false;
  /** Lets the counts asked for so far, and those asked for until {@link hold}, go. */
  const release = () => {
    released = true;
    held.splice(0).forEach((count) => count());
  };
  const hold = () => {
    released = false;
  };
  return { gated, release, hold };
}

const text = (i: number): MessageInput => ({ role: 'user', content: `Message ${i}: `.repeat(30) });

describe('an append answered once durable', () => {
  it('resumes its caller before the actor takes the writer’s answer', async () => {
    const { seen, inspect } = recorder();
    const runtime = await createSessionRuntime({ root: await tempRoot(), inspect });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, text(0));
    await runtime.estimateSize(id); // the actor has taken it
    seen.events.length = 0;
    const stored = await runtime.addMessage(id, text(1));
    const atResume = [...seen.events];
    const read = await runtime.getMessages(id);
    // Durable when answered (it is in the session's messages), taken by the actor after.
    expect(atResume).toEqual(['APPEND']);
    expect(seen.events).toEqual(['APPEND', 'PERSIST.DONE']);
    expect(read.at(-1)).toMatchObject({ seq: stored.seq, content: stored.content });
    await runtime.close();
  });

  it('shows the message to what the caller does next: size, messages, an append, a compaction, a restart', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 1_000_000 } });
    const { id } = await runtime.createSession(KEY);
    const inputs: MessageInput[] = [];
    for (let i = 0; i < 12; i++) {
      inputs.push(text(i));
      const stored = await runtime.addMessage(id, inputs[i]!);
      // Each figure right after the call holds every message answered, with its exact count.
      const size = await runtime.estimateSize(id);
      expect(size.liveMessages).toBe(i + 1);
      expect(size.breakdown.messages).toBe(inputs.reduce((sum, m) => sum + estimator.estimateMessage(m), 0));
      expect(stored.seq).toBe(i);
    }
    const last = await runtime.addMessage(id, text(12));
    expect((await runtime.getMessages(id)).map((m) => m.seq)).toEqual(
      Array.from({ length: 13 }, (_, i) => i),
    );
    await runtime.addMessage(id, text(13));
    // A compaction asked right after an append covers it (keeping no tail: every message).
    const compacted = await runtime.compact(id, { keepRecentTokens: 0 });
    expect(compacted).toMatchObject({ kind: 'compacted', messagesCompacted: 14 });
    await runtime.addMessage(id, text(14));
    await runtime.close();
    const again = await createSessionRuntime({ root });
    const history = await again.getHistory(id);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(history[12]).toMatchObject({ id: last.id, content: last.content });
    await again.close();
  });

  it('hands a count that comes before the actor took its batch over after it: none stays uncounted', async () => {
    const { seen, inspect } = recorder();
    const { gated, release, hold } = heldCounts();
    const runtime = await createSessionRuntime({ root: await tempRoot(), inspect, estimator: gated });
    const { id } = await runtime.createSession(KEY);
    for (let i = 0; i < 5; i++) {
      hold();
      const stored = await runtime.addMessage(id, text(i));
      // Not counted when durable: answered with its bound; the count comes right after.
      expect(stored.tokens).toBe(estimator.boundMessage(text(i)));
      release();
      const size = await runtime.estimateSize(id);
      expect(seen.uncounted).toBe(0);
      expect(size.breakdown.messages).toBe(
        Array.from({ length: i + 1 }, (_, j) => estimator.estimateMessage(text(j))).reduce((a, b) => a + b),
      );
    }
    await runtime.close();
  });
});
