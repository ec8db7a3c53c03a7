/**
 * A read that waits for the exact counts of acknowledged appends still at the counting worker
 * counts them on its own thread, which is idle meanwhile, from the last back, when they are few
 * (their bounds add up to at most `READ_COUNTS_HERE`, src/runtime/append-counts.ts): it answers
 * without the worker. The worker's later answer, the same number, is dropped: one count per
 * message, booked once. The counts asked of the worker are held by the test, so none can come from
 * there meanwhile.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { COUNT_HERE_PER_TURN, READ_COUNTS_HERE } from '../../src/runtime/append-counts.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { BY_TEXT_MAX_CHARS } from '../../src/tokens/count-batcher.js';
import type { LaterCountOptions, TokenEstimator } from '../../src/tokens/token-estimator.js';
import { heldLaterCounts } from '../helpers/held-counts.js';
import { tempRoot } from '../helpers/temp-root.js';
import { unlessStalled } from '../helpers/unless-stalled.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'read-counts-here' };

/**
 * The default estimator, its counts asked of the worker held; every later count is kept to await,
 * and the contents counted on this thread are listed in the order asked.
 */
function heldWorker() {
  const held = heldLaterCounts((options?: LaterCountOptions) => options?.countHere === true);
  const later: Promise<number>[] = [];
  const here: unknown[] = [];
  const estimator = new Proxy(held.estimator, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== 'estimateMessageLater' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const [message, options] = args as [MessageInput, LaterCountOptions | undefined];
        if (options?.countHere === true) here.push(message.content);
        const count = (value as (...a: unknown[]) => Promise<number>).apply(target, args);
        later.push(count);
        return count;
      };
    },
  }) as TokenEstimator;
  return { ...held, estimator, later, here };
}

/** A runtime with one session, its `COUNTED` events recorded. */
async function countedRuntime(estimator: TokenEstimator) {
  const counted: number[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.event') return;
    const sent = event.event as { type: string; count?: number };
    if (sent.type === 'COUNTED') counted.push(sent.count ?? 0);
  };
  const runtime = await createSessionRuntime({ root: await tempRoot(), estimator, inspect });
  const { id } = await runtime.createSession(KEY);
  await runtime.addMessage(id, { role: 'user', content: 'first: loads the session' });
  await runtime.estimateSize(id); // its count is in
  counted.length = 0;
  return { runtime, id, counted };
}

const results = (n: number, text: string): MessageInput[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `Result ${i} (${Math.random()}): ${text}` }));

describe('a read counts short pending counts itself', () => {
  it('answers with the exact counts while the worker holds them, and books each count once', async () => {
    const { real, estimator, hold, release, held, later } = heldWorker();
    real.estimate('the main thread has its encoder');
    const { runtime, id, counted } = await countedRuntime(estimator);
    const before = await runtime.estimateSize(id);
    const inputs = results(8, 'the build is green again. '.repeat(4));
    const bounds = inputs.map((m) => real.boundMessage(m)!);
    const total = bounds.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(COUNT_HERE_PER_TURN); // asked of the worker...
    expect(total).toBeLessThanOrEqual(READ_COUNTS_HERE); // ...and short enough for a read
    hold();
    // One turn: one batch, its counts asked of the worker (held), so the replies hold the bounds.
    const replies = await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    expect(replies.map((m) => m.tokens)).toEqual(bounds);
    expect(held()).toBe(inputs.length);
    const exact = inputs.map((m) => real.estimateMessage(m));
    const added = exact.reduce((a, b) => a + b, 0);

    // Before: the read waited for the worker, which never answers while held.
    const size = await unlessStalled(runtime.estimateSize(id), () => held() > 0);
    expect(size).not.toBe('stalled');
    expect(size === 'stalled' ? null : size.breakdown.messages).toBe(before.breakdown.messages + added);
    expect((await runtime.getMessages(id)).slice(-inputs.length).map((m) => m.tokens)).toEqual(exact);
    expect(counted).toEqual([inputs.length]);

    // The worker answers now: the same counts, dropped; nothing is booked twice.
    release();
    await Promise.all(later);
    const settled = await runtime.estimateSize(id); // waits for any count still being handed over
    expect(settled.breakdown.messages).toBe(before.breakdown.messages + added);
    expect(counted).toEqual([inputs.length]);
    await runtime.addMessage(id, { role: 'assistant', content: 'noted' }); // a turn after
    const after = await runtime.estimateSize(id);
    const noted = real.estimateMessage({ role: 'assistant', content: 'noted' });
    expect(after.breakdown.messages).toBe(before.breakdown.messages + added + noted);
    // Its own count comes with its write or, when the fdatasync ends first, as a COUNTED of one.
    expect([[inputs.length], [inputs.length, 1]]).toContainEqual(counted);
    await runtime.close();

    // On disk, each message has its exact count.
    const reopened = await createSessionRuntime({ root: runtime.root, estimator: real });
    const stored = (await reopened.getMessages(id)).slice(-inputs.length - 1, -1);
    expect(stored.map((m) => m.tokens)).toEqual(exact);
    await reopened.close();
  });

  it('counts longer texts too, up to READ_COUNTS_HERE in all, from the last back', async () => {
    const { real, estimator, hold, release, held, later, here } = heldWorker();
    real.estimate('the main thread has its encoder');
    const { runtime, id } = await countedRuntime(estimator);
    const inputs = results(6, 'a tool result line of a few words. '.repeat(120));
    const total = inputs.map((m) => real.boundMessage(m)!).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(8 * 1024); // four times what a read counted here before
    expect(total).toBeLessThanOrEqual(READ_COUNTS_HERE);
    hold();
    await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    expect(held()).toBe(inputs.length);
    here.length = 0;
    const read = await unlessStalled(runtime.getMessages(id), () => held() > 0);
    expect(read).not.toBe('stalled'); // before, the read waited for the worker
    const exact = inputs.map((m) => real.estimateMessage(m));
    expect(read === 'stalled' ? null : read.slice(-inputs.length).map((m) => m.tokens)).toEqual(exact);
    // The worker goes from the first: the read from the last, so that they meet once.
    expect(here).toEqual(inputs.map((m) => m.content).reverse());
    release();
    await Promise.all(later);
    await runtime.close();
  });

  it('leaves a text longer than BY_TEXT_MAX_CHARS to the worker, whatever the total', async () => {
    const { real, estimator, hold, release, held } = heldWorker();
    real.estimate('the main thread has its encoder');
    const { runtime, id } = await countedRuntime(estimator);
    const inputs = results(1, 'a long tool result line. '.repeat(400));
    const bound = real.boundMessage(inputs[0]!)!;
    expect(bound).toBeGreaterThan(BY_TEXT_MAX_CHARS);
    expect(bound).toBeLessThanOrEqual(READ_COUNTS_HERE);
    hold();
    await runtime.addMessage(id, inputs[0]!);
    const read = runtime.getMessages(id);
    expect(await unlessStalled(read, () => held() > 0)).toBe('stalled'); // not counted here
    release();
    expect((await read).at(-1)!.tokens).toBe(real.estimateMessage(inputs[0]!));
    await runtime.close();
  });

  it('waits for the worker when the pending counts add up to more than READ_COUNTS_HERE', async () => {
    const { real, estimator, hold, release, held } = heldWorker();
    real.estimate('the main thread has its encoder');
    const { runtime, id } = await countedRuntime(estimator);
    const inputs = results(12, 'a long tool result line. '.repeat(160));
    const total = inputs.map((m) => real.boundMessage(m)!).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(READ_COUNTS_HERE);
    hold();
    await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    const read = runtime.getMessages(id);
    expect(await unlessStalled(read, () => held() > 0)).toBe('stalled'); // not counted here
    release();
    const exact = inputs.map((m) => real.estimateMessage(m));
    expect((await read).slice(-inputs.length).map((m) => m.tokens)).toEqual(exact);
    await runtime.close();
  });
});
